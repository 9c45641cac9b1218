"""The quickstart and training notebooks run top to bottom (shrunk training) and find what they
claim; the paper's notebooks 02 and 03 are in test_notebooks_paper.py."""

from __future__ import annotations

import re

from helpers import notebook_text, run_notebook


def test_quickstart_notebook(tmp_path):
    text = notebook_text(run_notebook("01_quickstart.ipynb", tmp_path))
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", text).group(1))
    assert accuracy >= 0.98
    ring, off = map(float, re.search(r"on the ring ([-0-9.]+), off it ([-0-9.]+)", text).groups())
    assert ring > off
    assert (tmp_path / "nb" / "ring.png").stat().st_size > 1000


def test_training_notebook(tmp_path):
    text = notebook_text(run_notebook("04_training.ipynb", tmp_path))
    assert re.search(r"test accuracy after 4 epochs: 0\.9\d+", text)
    rows = re.findall(
        r"epoch +(\d+): mean λ₁ on the circle ([-+0-9.]+), in the centre ([-+0-9.]+)", text
    )
    assert [int(e) for e, _, _ in rows] == list(range(5))
    assert float(rows[-1][1]) > float(rows[-1][2])
