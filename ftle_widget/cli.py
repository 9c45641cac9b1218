"""The ``ftle-widget`` command line (also ``python -m ftle_widget``).

* ``demo``: JupyterLab on the quickstart notebook (copied to a working folder first);
* ``render``: a PNG (the field with axes and a colorbar, as the widget draws it) and a ``.npy``
  of a field, without a browser;
* ``field``: a field of the paper's toy network (or of a saved model), previewed in colour in the
  terminal.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .maths.fields import ftle_field
from .maths.modules import known_input_shape
from .maths.planes import Plane, default_plane
from .maths.quantities import QUANTITIES, needs_lower
from .paper.models import default_model, mlp, mlp_from_saved
from .widget import colours, export, saved

# the colour limits of log Λ₁ when none are given: the quickstart's (and the paper's Fig. 2)
LOG_STRETCH_LIMITS = (-4.0, 4.0)


def preview(values: np.ndarray, vmin: float, vmax: float) -> str:
    """Two pixels per character cell (upper half block), top row = largest v, coloured through
    the widget's RdBu_r LUT (NaN shows as the colour of the midpoint)."""
    filled = np.where(np.isfinite(values), values, 0.5 * (vmin + vmax))
    rgb = export.colorize(filled.astype(np.float32), "RdBu_r", vmin, vmax)[::-1, :, :3]
    lines = []
    for i in range(0, rgb.shape[0] - 1, 2):
        cells = [
            f"\x1b[38;2;{fg[0]};{fg[1]};{fg[2]}m\x1b[48;2;{bg[0]};{bg[1]};{bg[2]}m▀"
            for fg, bg in zip(rgb[i], rgb[i + 1])
        ]
        lines.append("".join(cells) + "\x1b[0m")
    return "\n".join(lines)


def _field(args: argparse.Namespace) -> int:
    own = [a for a in ("width", "depth", "seed", "weights") if getattr(args, a) is not None]
    if args.model is not None:
        if own:
            raise ValueError(f"--model and --{own[0]} exclude each other: give one model")
        model = load_model(args.model, args.allow_pickle)
    elif own:
        model = mlp(2, args.width or 10, args.depth or 8, 1, seed=args.seed or 0)
        if args.weights:
            state = torch.load(args.weights, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
    else:  # the trained default model, as in the README's picture
        model = default_model()
    plane = model_plane(model, args.input_shape)
    layer: int | str | None = args.layer
    if isinstance(layer, str) and layer.lstrip("-").isdigit():
        layer = int(layer)
    t0 = time.perf_counter()
    lower = needs_lower(args.quantity)
    field = ftle_field(model, plane, args.extent, (args.size, args.size), layer=layer, lower=lower)
    seconds = time.perf_counter() - t0
    shown = field.values(args.quantity)
    if not args.no_preview:
        lo, hi = colours.automatic_range(shown, args.quantity)  # symmetric, or [0, max]
        hi = args.vmax if args.vmax is not None else hi
        print(preview(shown, -hi if lo < 0 else 0.0, hi))
    print(
        f"{args.quantity} of {field.endpoint}, depth {field.depth:g}: "
        f"min {np.nanmin(shown):.3f}, mean {np.nanmean(shown):.3f}, max {np.nanmax(shown):.3f} "
        f"over {args.size}×{args.size} points in {seconds:.2f} s"
    )
    if args.out:
        np.save(args.out, shown)
        print(f"wrote {args.out}")
    return 0


def load_model(spec: str, allow_pickle: bool = False) -> torch.nn.Module:
    """``"default"`` (the embedded toy model) or a file: a dict with ``architecture`` (the
    :func:`~ftle_widget.models.mlp` arguments) and ``state_dict``, as
    :func:`~ftle_widget.models.save_mlp` writes; or, with ``allow_pickle``, a whole pickled
    module (``torch.save(model)``, which runs code when loaded: only for files you trust)."""
    if spec == "default":
        return default_model()
    path = Path(spec).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no model file {path} (give 'default' or a saved model)")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a pickled module is refused by weights_only
        if not allow_pickle:
            raise ValueError(
                f"{path} is not a weights file ({type(error).__name__}); if it is a whole model "
                "saved with torch.save(model) and you trust it, pass --allow-pickle"
            ) from None
        saved = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(saved, torch.nn.Module):
        return saved.eval()
    if isinstance(saved, dict) and {"architecture", "state_dict"} <= saved.keys():
        return mlp_from_saved(saved)
    raise ValueError(
        f"{path} holds neither a model nor {{'architecture', 'state_dict'}}: save "
        "one with ftle_widget.models.save_mlp(model, path) or torch.save(model)"
    )


def _add_extent(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--extent",
        type=float,
        nargs=4,
        default=[-1.5, 1.5, -1.5, 1.5],
        metavar=("U0", "U1", "V0", "V1"),
        help="the plane rectangle u0 u1 v0 v1 (default -1.5 1.5 -1.5 1.5)",
    )


def render_limits(
    quantity: str, vmin: float | None, vmax: float | None
) -> tuple[float | None, float | None]:
    """The colour limits ``render`` uses: those given, else :data:`LOG_STRETCH_LIMITS` for
    ``log_stretch`` (the quickstart's [−4, 4]); ``None`` (symmetric about 0 over the field) for
    ``lambda`` or when only one limit is given."""
    if quantity == "log_stretch" and vmin is None and vmax is None:
        return LOG_STRETCH_LIMITS
    return vmin, vmax


# render's options that a saved view's state (--state) sets, unless given: option → state entry
STATE_OPTIONS = {
    "extent": "extent",
    "layer": "layer",
    "quantity": "quantity",
    "cmap": "cmap",
    "vmin": "vmin",
    "vmax": "vmax",
    "directions": "show_directions",
}


def _apply_state(args: argparse.Namespace) -> tuple[Plane, bool, float | None]:
    """Set render's options from the state file ``args.state`` (FTLEView.state() as JSON),
    where not given on the command line; returns its plane, whether it shows the boundary and
    its depth."""
    state = saved.read_state(Path(args.state))
    for option, key in STATE_OPTIONS.items():
        if option not in args.given and key in state:
            setattr(args, option, state[key])
    reopened = saved.reopen_keywords(state)
    return reopened["plane"], bool(state.get("show_boundary", False)), state.get("depth")


def model_plane(model: torch.nn.Module, input_shape: list[int] | None) -> Plane:
    """The default plane of the model's inputs (``--input-shape``, else its first layer's)."""
    remedy = (
        "pass --input-shape, the shape of one input without the batch axis (e.g. "
        "--input-shape 3 32 32)"
    )
    return default_plane(known_input_shape(model, remedy, input_shape=input_shape))


def _add_model(parser: argparse.ArgumentParser, default: str | None, help: str) -> None:
    parser.add_argument("--model", default=default, help=help)
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load a whole pickled model (runs code: trusted files only)",
    )
    parser.add_argument(
        "--input-shape",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="the shape of one input, e.g. 3 32 32 (default: what the model's first layer fixes)",
    )


def _render(args: argparse.Namespace) -> int:
    model = load_model(args.model, args.allow_pickle)
    plane, boundary, depth = None, False, None
    if args.state:
        plane, boundary, depth = _apply_state(args)
    plane = plane or model_plane(model, args.input_shape)
    layer: int | str | None = args.layer
    if isinstance(layer, str) and layer.lstrip("-").isdigit():
        layer = int(layer)
    _, shape = export.fit_frame(args.extent, (args.size, args.size))  # square pixels
    t0 = time.perf_counter()
    keywords = {"directions": args.directions, "lower": needs_lower(args.quantity)}
    field = ftle_field(model, plane, args.extent, shape, layer=layer, depth=depth, **keywords)
    seconds = time.perf_counter() - t0
    out = Path(args.out)
    values = field.values(args.quantity)
    # a state's limits are the view's (None: symmetric over the field, as the view)
    limits = (args.quantity, args.vmin, args.vmax)
    vmin, vmax = (args.vmin, args.vmax) if args.state else render_limits(*limits)
    lo, hi = export.colour_limits(values, vmin, vmax, args.quantity)
    export.save_png(
        field,
        out,
        quantity=args.quantity,
        cmap=args.cmap or colours.default_cmap(args.quantity),
        vmin=lo,
        vmax=hi,
        directions=args.directions,
        boundary=boundary,
    )
    npy = Path(args.npy) if args.npy else out.with_suffix(".npy")
    np.save(npy, values)
    print(
        f"{args.quantity} of {field.endpoint} (depth {field.depth:g}) over {shape[1]}×"
        f"{shape[0]} points in {seconds:.2f} s: min {np.nanmin(values):.3f}, "
        f"max {np.nanmax(values):.3f}; colours over [{lo:g}, {hi:g}]\nwrote {out} and {npy}"
    )
    return 0


def notebooks_folder() -> Path:
    """The demo notebooks: shipped in the package, or beside it in a source checkout."""
    here = Path(__file__).resolve().parent
    for folder in (here / "demo_notebooks", here.parent / "demo_notebooks"):
        if (folder / "01_quickstart.ipynb").is_file():
            return folder
    raise FileNotFoundError("the demo notebooks are missing from this installation")


def copy_notebooks(target: Path, dry_run: bool = False) -> list[str]:
    """Copy the demo notebooks into ``target``: never over a file (the user's edits stay), never
    through a link (a dangling one would write outside ``target``). Returns what was done (or,
    with ``dry_run``, what would be), a line each."""
    done = []
    for notebook in sorted(notebooks_folder().glob("*.ipynb")):
        destination = target / notebook.name
        if destination.is_symlink():
            done.append(f"skip {destination}: a link (not followed)")
        elif destination.exists():
            done.append(f"keep {destination}")
        else:
            done.append(f"copy {notebook.name} to {destination}")
            if not dry_run:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(notebook, destination)
    return done


def _demo(args: argparse.Namespace) -> int:
    target = Path(args.dir).expanduser().resolve()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        str(target / "01_quickstart.ipynb"),
        f"--ServerApp.root_dir={target}",
    ]
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if root:  # containers: JupyterLab refuses root unless told
        command.append("--ServerApp.allow_root=True")
    command += args.lab_args
    if args.dry_run:
        print("\n".join(copy_notebooks(target, dry_run=True)))
        print(" ".join(command))
        return 0
    if shutil.which("jupyter-lab") is None and not _has_module("jupyterlab"):
        raise FileNotFoundError("JupyterLab is not installed: pip install 'ftle_widget[demo]'")
    for line in copy_notebooks(target):
        if line.startswith("skip"):
            print(line)
    if root:
        print("running as root: JupyterLab is allowed to (--ServerApp.allow_root=True)")
    print(f"notebooks in {target}; starting JupyterLab (Ctrl-C stops it)", flush=True)
    # its own session, so that Ctrl-C reaches only this process, which stops JupyterLab cleanly
    lab = subprocess.Popen(command, env=os.environ.copy(), start_new_session=True)
    try:
        return lab.wait()
    except KeyboardInterrupt:
        print("stopping JupyterLab …", flush=True)
        lab.terminate()  # SIGTERM: it shuts its kernels down and removes its runtime files
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            lab.kill()
            lab.wait()
        return 0


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ftle-widget", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="JupyterLab on the quickstart notebook (other arguments, e.g. --no-browser "
        "--port 8899, go to JupyterLab)",
        description="Copy the demo notebooks to --dir and start JupyterLab on the quickstart. "
        "Any other option (e.g. --no-browser --port 8899) goes to JupyterLab.",
    )
    demo.add_argument(
        "--dir",
        default="ftle_widget_demo",
        help="where the notebooks are copied (default ./ftle_widget_demo)",
    )
    demo.add_argument("--dry-run", action="store_true", help="print the command, start nothing")
    demo.set_defaults(run=_demo)  # other arguments go to JupyterLab, e.g. --no-browser
    render = sub.add_parser(
        "render",
        help="a PNG (the field with axes and a colorbar, as the widget draws it) and a .npy of "
        "a field",
    )
    _add_model(render, "default", "'default' (the embedded toy net) or a saved model file")
    render.add_argument("--layer", default=None, help="endpoint: int, module name, 'logits', …")
    render.add_argument(
        "--quantity",
        choices=QUANTITIES,
        default="log_stretch",
        help="log_stretch: log Λ₁ = depth·λ₁ (default); lambda: λ₁; lambda_min, gap (λ₁ − λ₂), "
        "anisotropy (λ₁ − λ_min): see ftle_widget.maths.quantities",
    )
    _add_extent(render)
    render.add_argument(
        "--size",
        type=int,
        default=256,
        help="pixels along the extent's longer side (square pixels; default 256)",
    )
    render.add_argument("--cmap", choices=export.colormap_names(), help="default: the quantity's")
    lo, hi = LOG_STRETCH_LIMITS
    render.add_argument(
        "--vmin",
        type=float,
        default=None,
        help=f"lower colour limit (default: {lo:g} for log_stretch, as in the quickstart, if "
        "--vmax is not given either; else symmetric about 0 over the field)",
    )
    render.add_argument(
        "--vmax",
        type=float,
        default=None,
        help=f"upper colour limit (default: {hi:g} for log_stretch if --vmin is not given "
        "either; else symmetric about 0 over the field)",
    )
    render.add_argument(
        "--directions",
        action="store_true",
        help="draw the stretching directions (the paper's Fig. 2 segments)",
    )
    render.add_argument(
        "--state",
        default=None,
        help="a view saved by FTLEView.state() as JSON: its plane, extent, layer, depth, "
        "quantity, colormap, limits, boundary and directions (options given here win)",
    )
    render.add_argument("--out", default="ftle_field.png", help="the PNG (default ftle_field.png)")
    render.add_argument("--npy", default=None, help="the array (default: the PNG's name, .npy)")
    render.set_defaults(run=_render)
    field = sub.add_parser(
        "field",
        help="FTLE field of the paper's 2 → N×L → 1 tanh network over its input plane: the "
        "trained default model, or with --width/--depth/--seed/--weights an mlp() of your own, "
        "or with --model a saved model (its default plane; --input-shape where its first layer "
        "does not fix it)",
    )
    field.add_argument("--width", type=int, default=None, help="hidden width N (default 10)")
    field.add_argument("--depth", type=int, default=None, help="hidden layers L (default 8)")
    field.add_argument("--seed", type=int, default=None, help="seed of the initial weights")
    field.add_argument("--weights", help="a state_dict saved with torch.save to load")
    _add_model(field, None, "instead: 'default' or a saved model file (as for render)")
    field.add_argument("--layer", default=None, help="endpoint: int, module name, 'logits', …")
    field.add_argument("--size", type=int, default=64, help="pixels per side (default 64)")
    _add_extent(field)
    field.add_argument("--quantity", choices=QUANTITIES, default="log_stretch")
    field.add_argument("--vmax", type=float, default=None, help="colour limit (default: auto)")
    field.add_argument("--out", help="write the field to this .npy file")
    field.add_argument("--no-preview", action="store_true", help="no coloured terminal preview")
    field.set_defaults(run=_field)
    args, extra = parser.parse_known_args(argv)
    words = sys.argv[1:] if argv is None else argv
    args.given = {w[2:].split("=")[0].replace("-", "_") for w in words if w.startswith("--")}
    if extra and args.command != "demo":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.lab_args = extra
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
