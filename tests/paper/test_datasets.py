"""Datasets: the circle problem, the shipped digits, MNIST from local IDX files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from ftle_widget import datasets


def test_circle_problem():
    data = datasets.circle()
    assert (len(data.x_train), len(data.x_test)) == (36_000, 4_000)
    x = torch.cat([data.x_train, data.x_test])
    y = torch.cat([data.y_train, data.y_test])
    assert x.dtype == torch.float32 and x.shape == (40_000, 2)
    assert float(x.abs().max()) <= 1.5
    inside = x.norm(dim=1) < 1.0
    assert torch.equal(y, torch.where(inside, -1.0, 1.0))
    assert abs(float(inside.float().mean()) - np.pi / 9) < 0.01  # area of the disc / square
    again = datasets.circle()
    assert torch.equal(again.x_test, data.x_test)  # seeded
    assert not torch.equal(datasets.circle(seed=1).x_test, data.x_test)
    small = datasets.circle(100, radius=0.5, half_width=1.0, test_fraction=0.5)
    assert len(small.x_test) == 50 and float(small.x_train.abs().max()) <= 1.0
    with pytest.raises(ValueError, match="test_fraction"):
        datasets.circle(test_fraction=1.0)


def test_digits_ship_with_scikit_learn():
    data = datasets.digits()
    assert data.input_shape == (64,) and len(data.x_train) + len(data.x_test) == 1797
    assert float(data.x_train.min()) == 0.0 and float(data.x_train.max()) == 1.0
    assert data.y_train.dtype == torch.int64 and set(data.y_test.tolist()) == set(range(10))
    assert data.classes == tuple("0123456789")


def _write_idx(path, array, compress=False):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def test_load_mnist_reads_idx_files_and_names_what_is_missing(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        datasets.load_mnist(tmp_path)
    _write_idx(tmp_path / "train-images-idx3-ubyte", images)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images[:2], compress=True)
    with pytest.raises(FileNotFoundError, match=r"t10k-labels-idx1-ubyte.*nothing is downloaded"):
        datasets.load_mnist(tmp_path)
    _write_idx(tmp_path / "t10k-labels.idx1-ubyte", labels[:2])  # the other spelling
    data = datasets.load_mnist(tmp_path)
    assert data.x_train.shape == (5, 784) and data.x_test.shape == (2, 784)
    np.testing.assert_array_equal(data.x_train.numpy(), images.reshape(5, -1) / np.float32(255))
    assert data.y_train.tolist() == [3, 1, 4, 1, 5] and data.y_test.dtype == torch.int64
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(tmp_path / "bad")
    _write_idx(tmp_path / "short", images)
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        datasets.read_idx(tmp_path / "short")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        datasets.load_mnist(tmp_path / "nowhere")
