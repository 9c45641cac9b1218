"""Command line: ``python -m ftle_widget field`` computes an FTLE field without a browser."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from .fields import ftle_field
from .models import mlp
from .planes import Plane

# A few stops of RdBu_r (blue → white → red) for the terminal preview.
_RDBU_R = np.array(
    [[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
     [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43],
     [103, 0, 31]], dtype=float,
)


def _colour(value: float, vmin: float, vmax: float) -> tuple[int, int, int]:
    t = 0.5 if not np.isfinite(value) else (value - vmin) / (vmax - vmin)
    pos = min(max(t, 0.0), 1.0) * (len(_RDBU_R) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(_RDBU_R) - 1)
    rgb = _RDBU_R[lo] + (pos - lo) * (_RDBU_R[hi] - _RDBU_R[lo])
    return tuple(round(c) for c in rgb)  # type: ignore[return-value]


def preview(values: np.ndarray, vmin: float, vmax: float) -> str:
    """Two pixels per character cell (upper half block), top row = largest v."""
    rows = values[::-1]
    lines = []
    for i in range(0, rows.shape[0] - 1, 2):
        cells = []
        for top, bottom in zip(rows[i], rows[i + 1]):
            fg, bg = _colour(top, vmin, vmax), _colour(bottom, vmin, vmax)
            cells.append(f"\x1b[38;2;{fg[0]};{fg[1]};{fg[2]}m\x1b[48;2;{bg[0]};{bg[1]};{bg[2]}m▀")
        lines.append("".join(cells) + "\x1b[0m")
    return "\n".join(lines)


def _field(args: argparse.Namespace) -> int:
    model = mlp(2, args.width, args.depth, 1, seed=args.seed)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True))
    plane = Plane.standard(2)
    layer: int | str | None = args.layer
    if isinstance(layer, str) and layer.lstrip("-").isdigit():
        layer = int(layer)
    t0 = time.perf_counter()
    field = ftle_field(model, plane, args.extent, (args.size, args.size), layer=layer)
    seconds = time.perf_counter() - t0
    shown = field.log_stretch if args.quantity == "log_stretch" else field.ftle
    if not args.no_preview:
        bound = args.vmax if args.vmax is not None else float(np.nanmax(np.abs(shown)))
        print(preview(shown, -bound, bound))
    print(
        f"{args.quantity} of {field.endpoint}, depth {field.depth:g}: "
        f"min {np.nanmin(shown):.3f}, mean {np.nanmean(shown):.3f}, max {np.nanmax(shown):.3f} "
        f"over {args.size}×{args.size} points in {seconds:.2f} s"
    )
    if args.out:
        np.save(args.out, shown)
        print(f"wrote {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ftle_widget", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    field = sub.add_parser(
        "field", help="FTLE field of the paper's 2 → N×L → 1 tanh network over its input plane"
    )
    field.add_argument("--width", type=int, default=10, help="hidden width N (default 10)")
    field.add_argument("--depth", type=int, default=8, help="hidden layers L (default 8)")
    field.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    field.add_argument("--weights", help="a state_dict saved with torch.save to load instead")
    field.add_argument("--layer", default=None, help="endpoint: int, module name, 'logits', …")
    field.add_argument("--size", type=int, default=64, help="pixels per side (default 64)")
    field.add_argument("--extent", type=float, nargs=4, default=[-1.5, 1.5, -1.5, 1.5],
                       metavar=("U0", "U1", "V0", "V1"))
    field.add_argument("--quantity", choices=["lambda", "log_stretch"], default="log_stretch")
    field.add_argument("--vmax", type=float, default=None, help="colour limit (default: auto)")
    field.add_argument("--out", help="write the field to this .npy file")
    field.add_argument("--no-preview", action="store_true", help="no coloured terminal preview")
    field.set_defaults(run=_field)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
