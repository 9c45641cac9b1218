"""The house: rooms by layer, imports that flow one way, modules of a readable size.

Read from the source (the import statements, wherever they stand), not from what happens to
be imported at run time, so that a function-level import across layers is caught too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ftle_widget

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ftle_widget"
ROOMS = ("maths", "lazy", "widget", "training", "paper")
# What each room may import from the package (the mathematics at the bottom, the paper on top).
MAY_IMPORT = {
    "maths": set(),
    "lazy": {"maths"},
    "widget": {"maths", "lazy"},
    "training": {"maths"},
    "paper": {"maths", "lazy", "widget", "training"},
}
JUPYTER = {"anywidget", "ipywidgets", "traitlets", "bqplot", "IPython", "ipykernel", "jupyterlab"}
MAX_MODULE_LINES = 400
MAX_INDEX_TS_LINES = 200


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; ``from x import y`` gives x and x.y)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {
    name: {m for m in imports_of(path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}


def room_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ROOMS) else None


def test_every_room_is_a_package_with_a_one_line_docstring():
    for room in ROOMS:
        init = PACKAGE / room / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "\n" not in doc.strip(), f"{init}: a one-line docstring says what it holds"
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "cli.py"], "modules live in their rooms"


@pytest.mark.parametrize("room", ROOMS)
def test_rooms_import_only_the_layers_below(room):
    wrong = []
    for name, targets in GRAPH.items():
        if room_of(name) != room:
            continue
        for target in targets:
            other = room_of(target)
            if other is None and target != "ftle_widget":
                continue
            if target == "ftle_widget" or (other != room and other not in MAY_IMPORT[room]):
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_mathematics_and_lazy_fields_import_nothing_of_jupyter():
    for name, path in MODULES.items():
        if room_of(name) in ("maths", "lazy"):
            used = {m.split(".")[0] for m in imports_of(path)} & JUPYTER
            assert not used, f"{name} imports {used}"


def test_no_circular_imports():
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if nxt.startswith(node + "."):
                continue  # a package importing its own modules (its __init__) is not a cycle
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert not cycles, "\n".join(cycles)


def test_modules_stay_readable():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"over {MAX_MODULE_LINES} lines: {long}"
    index = ROOT / "js" / "src" / "index.ts"
    assert len(index.read_text().splitlines()) < MAX_INDEX_TS_LINES


def test_documented_module_paths_still_work():
    # The README's API table names ftle_widget.datasets, .models and .export.
    from ftle_widget.datasets import circle
    from ftle_widget.export import save_png
    from ftle_widget.models import mlp, train

    assert circle.__module__ == "ftle_widget.paper.datasets"
    assert save_png.__module__ == "ftle_widget.widget.export"
    assert mlp.__module__ == "ftle_widget.paper.models"
    assert train.__module__ == "ftle_widget.training.trainer"
    assert sys.modules["ftle_widget.models"] is ftle_widget.models
    for name in ftle_widget.__all__:
        assert hasattr(ftle_widget, name), name


def test_ruff_format_clean():
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, "run `ruff format .`:\n" + done.stdout + done.stderr
