"""The command line, the benchmark script (as a smoke run) and the linter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ftle_widget import Plane, ftle_field
from ftle_widget.__main__ import main
from ftle_widget.models import mlp

ROOT = Path(__file__).resolve().parents[1]


def test_cli_field_writes_the_field(tmp_path, capsys):
    out = tmp_path / "field.npy"
    assert main(["field", "--size", "12", "--width", "6", "--depth", "3", "--seed", "4",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "log_stretch of hidden layer 3" in printed and "\x1b[48;2;" in printed
    saved = np.load(out)
    model = mlp(2, 6, 3, 1, seed=4)
    field = ftle_field(model, Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (12, 12))
    np.testing.assert_array_equal(saved, field.log_stretch)


def test_cli_reports_bad_layer(capsys):
    assert main(["field", "--size", "4", "--layer", "bogus", "--no-preview"]) == 2
    assert "not a submodule" in capsys.readouterr().err


def test_mlp_matches_the_paper_initialisation():
    model = mlp(50, 400, 3, 1, seed=0)
    weights = [m.weight.detach() for m in model if hasattr(m, "weight")]
    assert [tuple(w.shape) for w in weights] == [(400, 50), (400, 400), (400, 400), (1, 400)]
    for w in weights[:3]:
        assert abs(float(w.var()) * w.shape[1] - 1) < 0.05  # variance 1/fan_in
    assert all(float(m.bias.abs().max()) == 0 for m in model if hasattr(m, "bias"))
    assert type(model[-1]).__name__ == "Tanh"  # a single ±1 output


def test_benchmark_script_runs_and_reports(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ftle.py"), "--quick"],
        capture_output=True, text=True, timeout=600, check=True,
    )
    figures = dict(re.findall(r"^(\w+): ([-+0-9.e]+)$", done.stdout, flags=re.M))
    for key in ("ratio_toy", "ratio_mnist", "ratio_wide", "ratio_cnn", "wide_max_abs_err",
                "peak_rss_mb"):
        assert key in figures, done.stdout
        assert float(figures[key]) > 0 or key == "wide_max_abs_err"
    assert float(figures["wide_max_abs_err"]) <= 1e-4  # accuracy, not timing


@pytest.mark.parametrize("target", ["ftle_widget", "tests", "benchmarks"])
def test_ruff_clean(target):
    done = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT / target)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_tile_benchmark_script_runs_and_reports():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_tiles.py"), "--quick"],
        capture_output=True, text=True, timeout=600, check=True,
    )
    figures = dict(re.findall(r"^(\w+): ([-+0-9.e]+)$", done.stdout, flags=re.M))
    for key in ("first_coarse_ms_toy", "first_coarse_ms_mnist", "full_view_s_toy",
                "storm_ratio", "cache_hit_ms"):
        assert key in figures and float(figures[key]) > 0, done.stdout
