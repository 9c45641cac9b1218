"""Train the embedded default model: the paper's toy network 2 → 10×8 (tanh) → 1 (tanh) on the
circle problem (MSE, plain SGD), and write ftle_widget/default_model.pt.

    python scripts/train_default_model.py            # ~1-3 min on a laptop CPU

Deterministic for a given torch version (seeded data, init and batches).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from ftle_widget.models import DEFAULT_ARCHITECTURE, mlp

from ftle_widget import datasets
from ftle_widget.training.trainer import train

OUT = Path(__file__).resolve().parents[1] / "ftle_widget" / "default_model.pt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.manual_seed(0)
    data = datasets.circle()
    model = mlp(**DEFAULT_ARCHITECTURE, seed=0)
    result = train(model, data, epochs=args.epochs, optimizer="sgd", lr=0.05, batch_size=32, seed=0)
    accuracy = result.final_accuracy
    if accuracy < 0.98:
        raise SystemExit(f"test accuracy {accuracy:.4f} < 0.98: not written")
    torch.save(
        {
            "architecture": DEFAULT_ARCHITECTURE,
            "state_dict": {k: v.clone() for k, v in model.state_dict().items()},
            "test_accuracy": accuracy,
            "epochs": args.epochs,
            "trainer": "SGD lr 0.05, batch 32, MSE, seed 0; data: datasets.circle()",
            "torch": str(torch.__version__),
        },
        args.out,
    )
    print(
        f"wrote {args.out} ({args.out.stat().st_size} bytes): test accuracy {accuracy:.4f} "
        f"after {args.epochs} epochs"
    )


if __name__ == "__main__":
    main()
