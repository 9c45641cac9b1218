"""Data that ships or is generated: the paper's circle problem, scikit-learn's 8×8 digits (the
stand-in for MNIST) and real MNIST read from local IDX files (never downloaded)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch

from ..training.trainer import Split


def _split(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, classes: tuple[str, ...]
) -> Split:
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), not {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = max(1, round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    tx, ty = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    return Split(tx[train], ty[train], tx[test], ty[test], classes)


def circle(
    n: int = 40_000,
    *,
    radius: float = 1.0,
    half_width: float = 1.5,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> Split:
    """The paper's toy problem: ``n`` points uniform in [−half_width, half_width]², target −1
    inside the circle of ``radius`` about the origin and +1 outside; a seeded 90/10 split."""
    if n < 2:
        raise ValueError(f"n must be ≥ 2, not {n}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-half_width, half_width, size=(n, 2)).astype(np.float32)
    y = np.where(np.hypot(x[:, 0], x[:, 1]) < radius, -1.0, 1.0).astype(np.float32)
    return _split(x, y, test_fraction, seed + 1, ("inside", "outside"))


def digits(*, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's 1797 handwritten digits, 8×8 pixels flattened to 64, scaled to [0, 1]
    (ships with scikit-learn; nothing is downloaded)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    return _split(x, y, test_fraction, seed, tuple(str(d) for d in range(10)))


MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def load_mnist(path: str | os.PathLike) -> Split:
    """Real MNIST from the four standard IDX files in the folder ``path`` (plain or ``.gz``;
    also the ``train-images.idx3-ubyte`` spelling). Pixels scaled to [0, 1], flattened to 784.
    Nothing is downloaded: a missing file is named in the error."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"load_mnist: {folder} is not a folder; point it at the folder "
            f"holding {', '.join(MNIST_FILES.values())} (or .gz)"
        )
    arrays = {}
    for name, stem in MNIST_FILES.items():
        spellings = [stem, stem.replace("-idx", ".idx")]
        candidates = [folder / (s + ext) for s in spellings for ext in ("", ".gz")]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise FileNotFoundError(
                f"load_mnist: no {stem} in {folder}; looked for "
                + ", ".join(c.name for c in candidates)
                + " (MNIST's IDX files; nothing is downloaded)"
            )
        arrays[name] = read_idx(found)
    x_train, x_test = (
        arrays[k].reshape(len(arrays[k]), -1).astype(np.float32) / 255.0
        for k in ("x_train", "x_test")
    )
    for x, y, part in ((x_train, arrays["y_train"], "train"), (x_test, arrays["y_test"], "test")):
        if len(x) != len(y):
            raise ValueError(f"load_mnist: {len(x)} {part} images but {len(y)} labels")
    return Split(
        torch.from_numpy(x_train),
        torch.from_numpy(arrays["y_train"].astype(np.int64)),
        torch.from_numpy(x_test),
        torch.from_numpy(arrays["y_test"].astype(np.int64)),
        tuple(str(d) for d in range(10)),
    )


_IDX_TYPES: dict[int, type[np.generic] | str] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """One IDX file (plain or gzipped) as a numpy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    count = int(np.prod(shape))
    body = raw[4 + 4 * dims :]
    if len(body) != count * dtype.itemsize:
        raise ValueError(
            f"{path}: expected {count * dtype.itemsize} bytes of data for shape "
            f"{shape}, found {len(body)} (truncated file?)"
        )
    return np.frombuffer(body, dtype=dtype).reshape(shape)
