"""The command line, the benchmark script (as a smoke run), the linter and the type checker."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ftle_widget import Plane, ftle_field
from ftle_widget.cli import main, render_limits
from ftle_widget.paper.models import default_model, mlp, save_mlp
from ftle_widget.widget.export import colorize

ROOT = Path(__file__).resolve().parents[1]


def test_cli_field_writes_the_field(tmp_path, capsys):
    out = tmp_path / "field.npy"
    assert (
        main(
            [
                "field",
                "--size",
                "12",
                "--width",
                "6",
                "--depth",
                "3",
                "--seed",
                "4",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "log_stretch of hidden layer 3" in printed and "\x1b[48;2;" in printed
    saved = np.load(out)
    model = mlp(2, 6, 3, 1, seed=4)
    field = ftle_field(model, Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (12, 12))
    np.testing.assert_array_equal(saved, field.log_stretch)


def test_cli_reports_bad_layer(capsys):
    assert main(["field", "--size", "4", "--layer", "bogus", "--no-preview"]) == 2
    assert "not a submodule" in capsys.readouterr().err


def test_cli_render_writes_png_with_axes_colorbar_and_npy(tmp_path, capsys):
    out = tmp_path / "ring.png"
    assert main(["render", "--size", "120", "--out", str(out)]) == 0  # log Λ₁ by default
    printed = capsys.readouterr().out
    assert "wrote" in printed and "colours over [-4, 4]" in printed  # the quickstart's limits
    values = np.load(tmp_path / "ring.npy")
    field = ftle_field(default_model(), Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (120, 120))
    np.testing.assert_array_equal(values, field.log_stretch)  # the default model, L·λ₁
    image = np.asarray(Image.open(out).convert("RGBA"))
    assert image.shape == (150, 120 + 70, 4)  # the field at the top left, the colorbar beside
    expected = colorize(field.log_stretch, "RdBu_r", -4, 4)[::-1]
    np.testing.assert_array_equal(image[:90, 35:120], expected[:90, 35:])  # clear of the axes
    assert (image[90:120, :120] != expected[90:]).any()  # the u axis: ticks and labels
    assert (image[:90, :30] != expected[:90, :30]).any()  # the v axis
    bar = image[32 : 150 - 22, 120 + 10, :3].astype(int)  # the colorbar's strip
    assert bar[2, 0] > bar[2, 2] + 60 and bar[-3, 2] > bar[-3, 0] + 60  # red on top, blue below
    r = np.hypot(*np.meshgrid(np.linspace(-1.5, 1.5, 120), np.linspace(-1.5, 1.5, 120)))
    redness = image[:120, :120, 0].astype(int) - image[:120, :120, 2]
    assert redness[::-1][np.abs(r - 1) < 0.04].mean() > redness[::-1][r < 0.3].mean() + 50


def test_cli_render_limits_and_aspect(tmp_path, capsys):
    assert render_limits("log_stretch", None, None) == (-4.0, 4.0)
    assert render_limits("log_stretch", -2.0, None) == (-2.0, None)  # one given: the other auto
    assert render_limits("lambda", None, None) == (None, None)  # symmetric over the field
    out = tmp_path / "wide.png"
    args = ["render", "--size", "60", "--extent", "-3", "3", "-1", "1", "--quantity", "lambda"]
    assert main([*args, "--out", str(out)]) == 0
    values = np.load(tmp_path / "wide.npy")
    assert values.shape == (20, 60)  # square pixels: 60 along the longer side
    m = float(np.abs(values).max())
    assert f"colours over [{-m:g}, {m:g}]" in capsys.readouterr().out
    assert Image.open(out).size == (60 + 70, 150)
    help_text = subprocess.run(
        [sys.executable, "-m", "ftle_widget", "render", "--help"], capture_output=True, text=True
    ).stdout
    assert "-4 for log_stretch" in " ".join(help_text.split())


def test_cli_render_a_saved_model_with_directions_and_errors(tmp_path, capsys):
    model = mlp(2, 6, 3, 1, seed=2)
    save_mlp(model, tmp_path / "net.pt")
    out = tmp_path / "net.png"
    assert (
        main(
            [
                "render",
                "--model",
                str(tmp_path / "net.pt"),
                "--size",
                "22",
                "--quantity",
                "lambda",
                "--cmap",
                "viridis",
                "--directions",
                "--out",
                str(out),
                "--npy",
                str(tmp_path / "a.npy"),
            ]
        )
        == 0
    )
    field = ftle_field(model, Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (22, 22))
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), field.ftle)
    dark = np.asarray(Image.open(out).convert("RGB"))[:22, :22].max(axis=2) < 80
    assert dark.sum() > 20  # the direction segments
    torch.save(model, tmp_path / "pickled.pt")
    assert (
        main(
            [
                "render",
                "--model",
                str(tmp_path / "pickled.pt"),
                "--out",
                str(tmp_path / "p.png"),
                "--size",
                "8",
            ]
        )
        == 2
    )
    assert "--allow-pickle" in capsys.readouterr().err
    assert (
        main(
            [
                "render",
                "--model",
                str(tmp_path / "pickled.pt"),
                "--allow-pickle",
                "--out",
                str(tmp_path / "p.png"),
                "--size",
                "8",
            ]
        )
        == 0
    )
    assert main(["render", "--model", str(tmp_path / "missing.pt")]) == 2
    assert "no model file" in capsys.readouterr().err


def test_cli_demo_dry_run_copies_nothing_and_prints_the_command(tmp_path, capsys):
    assert main(["demo", "--dir", str(tmp_path / "demo"), "--dry-run", "--no-browser"]) == 0
    out = capsys.readouterr().out
    assert "-m jupyterlab" in out and "01_quickstart.ipynb" in out
    assert out.strip().endswith("--no-browser")
    assert "copy 01_quickstart.ipynb to" in out
    assert not (tmp_path / "demo").exists()  # a dry run changes nothing


def test_cli_demo_keeps_the_users_edits_and_follows_no_links(tmp_path):
    from ftle_widget.cli import copy_notebooks

    target = tmp_path / "demo"
    done = copy_notebooks(target)
    assert "01_quickstart.ipynb" in sorted(p.name for p in target.glob("*.ipynb"))
    assert all(line.startswith("copy") for line in done)
    (target / "01_quickstart.ipynb").write_text("{}")  # the user's edits stay
    (target / "02_depth_and_width.ipynb").unlink()
    outside = tmp_path / "outside.ipynb"
    (target / "02_depth_and_width.ipynb").symlink_to(outside)  # dangling, pointing out
    done = copy_notebooks(target)
    assert (target / "01_quickstart.ipynb").read_text() == "{}"
    assert not outside.exists()
    assert any(line.startswith("skip") and "02_depth" in line for line in done)


def test_cli_demo_serves_the_quickstart(tmp_path):
    import os
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(
        os.environ,
        JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
    )
    proc = subprocess.Popen(
        [
            "ftle-widget",
            "demo",
            "--dir",
            str(tmp_path / "demo"),
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--IdentityProvider.token=",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/contents/01_quickstart.ipynb?content=0"
                reply = urllib.request.urlopen(url, timeout=2).read().decode()
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "JupyterLab did not start"
                time.sleep(0.3)
        assert '"name": "01_quickstart.ipynb"' in reply.replace('":"', '": "')
        lab = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=10).read()
        assert b"JupyterLab" in lab
        assert list((tmp_path / "rt").glob("jpserver-*.json"))  # its runtime files
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(60) == 0
        assert not list((tmp_path / "rt").glob("jpserver-*.json"))  # a clean stop
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)


def test_console_script_is_installed():
    done = subprocess.run(["ftle-widget", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "demo" in done.stdout and "render" in done.stdout


def test_mlp_matches_the_paper_initialisation():
    model = mlp(50, 400, 3, 1, seed=0)
    weights = [m.weight.detach() for m in model if hasattr(m, "weight")]
    assert [tuple(w.shape) for w in weights] == [(400, 50), (400, 400), (400, 400), (1, 400)]
    for w in weights[:3]:
        assert abs(float(w.var()) * w.shape[1] - 1) < 0.05  # variance 1/fan_in
    assert all(float(m.bias.detach().abs().max()) == 0 for m in model if hasattr(m, "bias"))
    assert type(model[-1]).__name__ == "Tanh"  # a single ±1 output


def benchmark_figures(script: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run ``benchmarks/<script> --quick``; its output and its ``name: value`` lines."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return done, dict(re.findall(r"^(\w+): ([-+0-9.e]+)$", done.stdout, flags=re.M))


def test_benchmark_script_runs_and_reports(tmp_path):
    done, figures = benchmark_figures("bench_ftle.py")
    for key in (
        "ratio_toy",
        "ratio_mnist",
        "ratio_wide",
        "ratio_cnn",
        "ratio_resnet",
        "ratio_transformer",
        "ratio_toy_contended",
        "ratio_mnist_contended",
        "wide_max_abs_err",
        "peak_rss_mb",
    ):
        assert key in figures, done.stdout
        assert float(figures[key]) > 0 or key == "wide_max_abs_err"
    assert float(figures["wide_max_abs_err"]) <= 1e-4  # accuracy, not timing


def test_ceiling_benchmark_runs_and_reports():
    done, figures = benchmark_figures("bench_ceiling.py")
    keys = ("backward_over_forward", "ratio_resnet", "ratio_resnet_ceiling", "share_of_ceiling")
    assert set(keys) <= set(figures), done.stdout
    assert all(float(figures[key]) > 0 for key in keys)
    # the ceiling is ours with backward passes as fast as forward ones: the same figures
    ratio = float(figures["ratio_resnet"]) / float(figures["ratio_resnet_ceiling"])
    assert abs(ratio - float(figures["share_of_ceiling"])) < 0.02


@pytest.mark.parametrize(
    "target", ["ftle_widget", "tests", "benchmarks", "scripts", "demo_notebooks"]
)
def test_ruff_clean(target):
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(ROOT / target)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_clean():
    # [tool.mypy] in pyproject.toml says what is checked and how
    done = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_tile_benchmark_script_runs_and_reports():
    done, figures = benchmark_figures("bench_tiles.py")
    for key in (
        "first_coarse_ms_toy",
        "first_coarse_ms_mnist",
        "full_view_s_toy",
        "storm_ratio",
        "cache_hit_ms",
        "request_ms_512",
        "first_picture_s_resnet",
        "ridge_first_gain",
    ):
        assert key in figures and float(figures[key]) > 0, done.stdout


@pytest.mark.parametrize(
    ("architecture", "state", "reason"),
    [
        # 3 KB asking for 60000-wide layers (about 14 GB): refused before anything is made
        ({"n_in": 2, "width": 60000, "depth": 4, "n_out": 1}, "small",
         r"0.bias is \(4,\) where it needs \(60000,\) \(10 tensor\(s\) differ\)"),
        ({"n_in": 2, "width": "4", "depth": 2, "n_out": 1}, "small", "positive ints"),
        ({"n_in": 2, "width": 4, "depth": 2, "n_out": 1, "evil": 1}, "small", "not mlp\\(\\)'s"),
        ({"n_in": 2, "width": 4, "depth": 2, "n_out": 1}, "strings", "0.bias is None"),
    ],
)  # fmt: skip
def test_cli_render_refuses_a_weights_file_that_lies_in_one_line(tmp_path, capsys, architecture,
                                                                  state, reason):  # fmt: skip
    weights = mlp(2, 4, 2, 1, seed=0).state_dict()
    if state == "strings":
        weights = {k: "x" for k in weights}
    path = tmp_path / "lies.pt"
    torch.save({"architecture": architecture, "state_dict": weights}, path)
    assert path.stat().st_size < 5000
    assert main(["render", "--model", str(path), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    assert re.search(reason, err), err


def test_cli_field_shows_the_trained_default_model_by_default(tmp_path, capsys):
    out = tmp_path / "field.npy"
    assert main(["field", "--size", "10", "--no-preview", "--out", str(out)]) == 0
    expected = ftle_field(default_model(), Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (10, 10))
    np.testing.assert_array_equal(np.load(out), expected.log_stretch)


def test_cli_demo_help_says_other_options_go_to_jupyterlab(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "goes to JupyterLab" in " ".join(capsys.readouterr().out.split())


def test_cli_render_and_field_take_an_input_shape(tmp_path, capsys):
    from helpers import SmallResNet

    model = SmallResNet()
    torch.save(model, tmp_path / "resnet.pt")
    common = ["--model", str(tmp_path / "resnet.pt"), "--allow-pickle", "--size", "4"]
    out = tmp_path / "r.png"
    assert main(["render", *common, "--out", str(out)]) == 2
    assert "pass --input-shape" in capsys.readouterr().err
    assert main(["render", *common, "--input-shape", "3", "8", "8", "--out", str(out)]) == 0
    assert "of input of fc (last hidden layer) (depth 3)" in capsys.readouterr().out
    field = ftle_field(model, extent=(-1.5, 1.5, -1.5, 1.5), shape=(4, 4), input_shape=(3, 8, 8))
    np.testing.assert_array_equal(np.load(tmp_path / "r.npy"), field.log_stretch)
    npy = tmp_path / "f.npy"
    argv = ["field", *common, "--input-shape", "3", "8", "8", "--no-preview", "--out", str(npy)]
    assert main(argv) == 0
    np.testing.assert_array_equal(np.load(npy), field.log_stretch)
    assert main(["field", *common, "--no-preview"]) == 2
    assert "pass --input-shape" in capsys.readouterr().err
    assert main(["field", *common, "--width", "4", "--no-preview"]) == 2
    assert "--model and --width exclude each other" in capsys.readouterr().err


def test_cli_render_layer_cmap_and_limits_each_take_effect(tmp_path, capsys):
    model = mlp(2, 6, 3, 1, seed=5)
    save_mlp(model, tmp_path / "net.pt")
    out = tmp_path / "l.png"
    argv = ["render", "--model", str(tmp_path / "net.pt"), "--size", "100", "--layer", "1"]
    argv += ["--quantity", "lambda", "--cmap", "viridis", "--vmin", "-0.5", "--vmax", "0.25"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "colours over [-0.5, 0.25]" in capsys.readouterr().out
    field = ftle_field(model, Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (100, 100), layer=1)
    values = np.load(tmp_path / "l.npy")
    np.testing.assert_array_equal(values, field.ftle)  # hidden layer 1, not the last (3)
    assert not np.array_equal(values, ftle_field(model, shape=(100, 100)).ftle)
    image = np.asarray(Image.open(out).convert("RGBA"))
    expected = colorize(field.ftle, "viridis", -0.5, 0.25)[::-1]
    np.testing.assert_array_equal(image[:70, 35:100], expected[:70, 35:])  # clear of the axes


def test_cli_field_weights_layer_quantity_extent_and_vmax_each_take_effect(tmp_path, capsys):
    from ftle_widget.cli import preview

    trained = mlp(2, 6, 3, 1, seed=9)
    torch.save(trained.state_dict(), tmp_path / "w.pt")
    npy = tmp_path / "f.npy"
    argv = ["field", "--width", "6", "--depth", "3", "--weights", str(tmp_path / "w.pt")]
    argv += ["--layer", "2", "--quantity", "lambda", "--extent", "0", "1", "-2", "-1"]
    assert main([*argv, "--size", "8", "--vmax", "0.5", "--out", str(npy)]) == 0
    printed = capsys.readouterr().out
    field = ftle_field(trained, Plane.standard(2), (0, 1, -2, -1), (8, 8), layer=2)
    np.testing.assert_array_equal(np.load(npy), field.ftle)  # the loaded weights, not seed 0's
    assert "lambda of hidden layer 2" in printed
    assert preview(field.ftle, -0.5, 0.5) in printed  # the colours span [−vmax, vmax]
    assert preview(field.ftle, -0.5, 0.5) != preview(field.ftle, -0.25, 0.25)
