"""A small trainer for the paper's networks: MSE or cross-entropy, SGD or Adam, tqdm progress,
metrics per epoch, an optional :class:`~ftle_widget.training.history.History` and a stop switch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm


@dataclass(frozen=True)
class Split:
    """A train/test split. ``x_*``: float32 inputs; ``y_*``: targets (float32 ±1 for the
    circle, int64 classes otherwise); ``classes``: the class names."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (
            f"Split(train={len(self.x_train)}, test={len(self.x_test)}, "
            f"input_shape={self.input_shape}, classes={len(self.classes)})"
        )


LOSSES = ("mse", "cross_entropy")
OPTIMIZERS = ("sgd", "adam")


@dataclass
class TrainResult:
    """Metrics per epoch (index 0: before training)."""

    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    stopped: bool = False

    @property
    def final_accuracy(self) -> float:
        return self.test_accuracy[-1]


def predicted_label(output: torch.Tensor) -> torch.Tensor:
    """The predicted target per row: the sign (−1/+1, the MSE targets) of a single output, else
    the argmax (see :func:`ftle_widget.maths.fields.class_index` for 0/1)."""
    if output.ndim == 2 and output.shape[1] == 1:
        return torch.where(output[:, 0] >= 0, 1.0, -1.0)
    return output.argmax(dim=1)


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str, batch: int = 8192
) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on (x, y)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch):
        xb, yb = x[start : start + batch].to(device), y[start : start + batch].to(device)
        out = model(xb)
        total_loss += float(_loss(out, yb, loss)) * len(xb)
        correct += int((predicted_label(out) == yb).sum())
    model.train(was_training)
    return total_loss / len(x), correct / len(x)


def _loss(out: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "mse":
        return nn.functional.mse_loss(out.reshape(y.shape), y)
    return nn.functional.cross_entropy(out, y)


def train(
    model: nn.Module,
    data: Split,
    *,
    epochs: int = 100,
    loss: str | None = None,
    optimizer: str = "sgd",
    lr: float | None = None,
    momentum: float = 0.0,
    batch_size: int = 32,
    seed: int = 0,
    history=None,
    progress: bool = True,
    should_stop: Callable[[], bool] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place on ``data``; metrics are measured before training and after
    every epoch.

    Parameters
    ----------
    loss : ``"mse"`` (targets ±1, the paper's toy problem) or ``"cross_entropy"`` (class
        targets); default: from the targets' dtype.
    optimizer, lr, momentum : SGD (default lr 0.05) or Adam (default lr 1e-3).
    history : a :class:`~ftle_widget.History`; each epoch is recorded with ``train_loss``,
        ``test_loss`` and ``test_accuracy``.
    should_stop : polled between batches; training stops early when it returns True.
    on_epoch : called with (epoch, metrics) after each epoch.
    """
    if loss is None:
        loss = "cross_entropy" if not data.y_train.is_floating_point() else "mse"
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {optimizer!r}")
    if epochs < 0 or batch_size < 1:
        raise ValueError("epochs must be ≥ 0 and batch_size ≥ 1")
    device = next(model.parameters()).device
    x, y = data.x_train.to(device), data.y_train.to(device)
    opt: torch.optim.Optimizer
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr or 0.05, momentum=momentum)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr or 1e-3)
    gen = torch.Generator().manual_seed(seed)
    result = TrainResult()

    def measure(epoch: int, train_loss: float | None) -> None:
        test_loss, accuracy = evaluate(model, data.x_test, data.y_test, loss)
        if train_loss is None:
            train_loss = evaluate(model, data.x_train, data.y_train, loss)[0]
        metrics = {"train_loss": train_loss, "test_loss": test_loss, "test_accuracy": accuracy}
        result.epochs.append(epoch)
        result.train_loss.append(train_loss)
        result.test_loss.append(test_loss)
        result.test_accuracy.append(accuracy)
        if history is not None:
            history.record(model, epoch=epoch, **metrics)
        if on_epoch is not None:
            on_epoch(epoch, metrics)

    measure(0, None)
    bar = tqdm(range(1, epochs + 1), desc="training", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(x), generator=gen).to(device)
        running, seen = 0.0, 0
        for start in range(0, len(x), batch_size):
            if should_stop is not None and should_stop():
                result.stopped = True
                break
            index = order[start : start + batch_size]
            opt.zero_grad(set_to_none=True)
            value = _loss(model(x[index]), y[index], loss)
            value.backward()
            opt.step()
            running += float(value.detach()) * len(index)
            seen += len(index)
        if result.stopped:
            break
        measure(epoch, running / max(seen, 1))
        bar.set_postfix(loss=f"{result.test_loss[-1]:.4f}", acc=f"{result.test_accuracy[-1]:.4f}")
    bar.close()
    model.eval()
    return result
