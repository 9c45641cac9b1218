"""The paper notebooks run top to bottom in quick mode and print the paper's findings."""

from __future__ import annotations

import re

import pytest
from helpers import notebook_text, run_notebook

NUMBER = r"(-?\d+\.\d+)"


def _images(executed: dict) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in executed["cells"]
        for output in cell.get("outputs", [])
    )


def test_depth_and_width_notebook_reproduces_fig_3b_and_3a(tmp_path):
    executed = run_notebook("02_depth_and_width.ipynb", tmp_path)
    text = notebook_text(executed)
    assert "quick mode: 9000 training points, protocol 'ours' (batch 32, 7 epochs)" in text
    grid = {(n, d) for n in (10, 50, 250) for d in (2, 4, 8, 12)}  # L = 12 in quick mode too
    rows = re.findall(rf"^\s*(\d+)\s+(\d+)\s+{NUMBER}\s+(\d+)\s+{NUMBER}\s+trained$", text, re.M)
    accuracy = {(int(n), int(d)): float(a) for n, d, a, _, _ in rows}
    trained_epochs = {(int(n), int(d)): int(e) for n, d, _, e, _ in rows}
    assert set(accuracy) == grid
    assert min(accuracy.values()) >= 0.98
    assert {e for (_, d), e in trained_epochs.items() if d < 12} == {7}
    assert {e for (_, d), e in trained_epochs.items() if d == 12} == {4}  # fewer in quick mode
    table = {
        (int(n), int(d)): (float(b), float(c), float(k))
        for d, n, b, c, k in re.findall(
            rf"^\s*(\d+)\s+(\d+)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+360$", text, re.MULTILINE
        )
    }
    assert set(table) == grid
    for boundary, centre, contrast in table.values():
        assert abs(boundary - centre - contrast) <= 0.011
    narrow, wide = table[10, 8], table[250, 8]
    assert narrow[0] > narrow[1] and narrow[2] > wide[2]
    # the paper's trends: the boundary value grows with depth, the centre value with width
    assert table[10, 2][0] < table[10, 4][0] < table[10, 8][0] < table[10, 12][0]
    assert table[10, 8][1] < table[50, 8][1] < table[250, 8][1]
    assert "N = 10,  L = 8: boundary" in text

    # Fig. 3b in the paper's numbers: both protocols beside the paper's values, N = 10
    fig3b = {
        int(d): tuple(map(float, values))
        for d, *values in re.findall(
            rf"^\s*(\d+)\s+{NUMBER}\s+{NUMBER} \(\s*{NUMBER}%\)\s+{NUMBER} \(\s*{NUMBER}%\)$",
            text,
            re.MULTILINE,
        )
    }
    assert sorted(fig3b) == [2, 4, 8, 12]
    assert [fig3b[d][0] for d in (2, 4, 8, 12)] == [1.2, 2.2, 3.0, 3.2]
    for d, (_, ours, ours_accuracy, paper, paper_accuracy) in fig3b.items():
        assert ours == pytest.approx(table[10, d][0], abs=0.006)  # the grid's own net
        assert paper < ours and ours_accuracy >= 98 and paper_accuracy >= 90
    paper_boundary = [fig3b[d][3] for d in (2, 4, 8, 12)]
    assert paper_boundary == sorted(paper_boundary)

    # Fig. 3b over seeds by the paper's protocol (quick: N = 8, 24; 2 seeds), and the fits
    assert "Fig. 3b over 2 seeds, protocol 'paper'" in text
    sweep = {
        (int(d), int(n)): tuple(map(float, values[:5]))
        for d, n, *values in re.findall(
            rf"^\s*(\d+)\s+(\d+)\s+{NUMBER} ±\s+{NUMBER}\s+{NUMBER} ±\s+{NUMBER}\s+{NUMBER}"
            rf"(?:\s+{NUMBER})?$",
            text,
            re.M,
        )
    }
    left_out = {
        (int(d), int(n)) for n, d in re.findall(r"^left out: N = (\d+), L = (\d+)", text, re.M)
    }
    assert set(sweep) | left_out == {(d, n) for d in (2, 4, 8, 12) for n in (8, 24)}
    for boundary, b_error, centre, c_error, contrast in sweep.values():
        assert b_error >= 0 and c_error >= 0 and abs(boundary - centre - contrast) <= 0.011
    c_c = float(re.search(rf"C_c = {NUMBER} \(paper ≈ 0.3\)", text).group(1))
    assert 0 < c_c < 1  # the centre falls with depth (quick mode: 2 widths, 2 seeds)
    crossings = re.findall(
        r"^L = \s*(\d+): N_c = \s*([\d.e+]+) \((inside the sweep|extrapolated)\)$", text, re.M
    )
    assert [int(d) for d, _, _ in crossings] == [2, 4, 8, 12]
    assert re.search(rf"log N_c = C_d \+ C_c' L: C_d = {NUMBER}, C_c' = {NUMBER}", text)
    goal = re.findall(
        rf"^\s*(\d+)\s+{NUMBER}\s+{NUMBER}\s+([+-]\d+)%\s+([+-]{NUMBER}) ±\s+{NUMBER}\s+(yes|no)$",
        text,
        re.M,
    )
    assert [(int(g[0]), float(g[1])) for g in goal] == [(2, 1.2), (4, 2.2), (8, 3.0), (12, 3.2)]
    assert re.search(r"C_c = [\d.]+: (inside|outside) \[0.2, 0.4\]", text)
    length = re.search(r"^((?:\d+: (?:[\d.]+|no boundary)\s+)+)\(paper 3.0\)$", text, re.M)
    trained = [float(b) for b in re.findall(r"\d+: ([\d.]+)", length.group(1))]
    assert len(trained) >= 2 and trained[-1] > trained[0]  # the ridge sharpens with training

    # Fig. 3a: frozen hidden layers, random thresholds learn with N, zero ones never do
    fig3a = {
        int(n): (paper, float(r), float(z), float(t))
        for n, paper, r, z, t in re.findall(
            rf"^\s*(\d+)\s+(≈ [\d.]+ %|–)\s+{NUMBER}%\s+{NUMBER}%\s+{NUMBER}%$", text, re.M
        )
    }
    assert sorted(fig3a) == [5, 20, 80]
    assert fig3a[5][0] == "≈ 30 %" and fig3a[20][0] == "–"
    random = [fig3a[n][1] for n in (5, 20, 80)]
    assert random[0] > random[1] > random[2] and random[0] > 10 and random[2] < 3
    assert all(abs(fig3a[n][2] - 35) < 3 for n in fig3a)
    assert all(fig3a[n][3] < min(2, fig3a[n][1]) for n in fig3a)

    # the Fig. 2 panels, the Fig. 3b charts, over seeds, the training length, the Fig. 3a chart
    assert _images(executed) == 5
    widget = [
        o
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(widget) == 1


def test_digits_notebook_reproduces_fig_4b(tmp_path):
    executed = run_notebook("03_digits.ipynb", tmp_path)
    text = notebook_text(executed)
    accuracy = float(re.search(rf"test accuracy {NUMBER} after 30 epochs", text).group(1))
    assert accuracy > 0.9
    rows = re.findall(
        rf"^\[{NUMBER}, \+?{NUMBER}\]\s+{NUMBER}\s+(\d+)\s+{NUMBER}%\s+{NUMBER}$",
        text.replace("[+", "["),
        re.MULTILINE,
    )
    assert len(rows) == 5
    lam = [float(r[2]) for r in rows]
    error = [float(r[4]) for r in rows]
    entropy = [float(r[5]) for r in rows]
    assert lam == sorted(lam) and sum(int(r[3]) for r in rows) == 359
    assert error[-1] > error[0]
    assert entropy[-1] > entropy[0]
    assert "ensemble of 5 nets" in text
    widths = re.findall(rf"^\s*(\d+)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", text, re.MULTILINE)
    assert [int(w[0]) for w in widths] == [20, 40, 80]
    assert "MNIST skipped: set FTLE_WIDGET_MNIST" in text
    # Fig. 4a: λ₁ rises towards the boundary and falls beyond it; the attack runs along v₁
    steps, crossed, peak = map(
        int,
        re.search(
            r"(\d+) steps; predicted 4 from step (\d+); λ₁ peaks at step (\d+)", text
        ).groups(),
    )
    assert 0 < peak < steps and crossed < steps
    start, top, end = map(
        float, re.search(rf"start {NUMBER}, peak {NUMBER}, end {NUMBER}", text).groups()
    )
    assert top > max(start, end)
    align, random = map(
        float, re.search(rf"mean {NUMBER} \(random directions: {NUMBER}\)", text).groups()
    )
    assert align > 2 * random
    assert _images(executed) == 4  # the plane with its digits, Fig. 4a, Fig. 4b, Fig. 4c-d
    # Fig. 4b on the plane: the ensemble's entropy and mutual information rise with λ₁
    for quantity in ("entropy", "mutual_information"):
        rho, low, high = map(
            float,
            re.search(
                rf"{quantity}: rank correlation \+?{NUMBER}, "
                rf"lowest λ₁ {NUMBER}, highest λ₁ {NUMBER}",
                text,
            ).groups(),
        )
        assert rho > 0 and high > low
