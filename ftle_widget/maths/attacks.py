"""Adversarial paths and the stretching along them (the paper's Fig. 4a): a targeted attack from
an input towards another class, λ₁ at every step, and how the attack's step lines up with the
maximal stretching direction v₁ there.

The attack takes normalised gradient steps (``"l2"``: each of length ``step_size`` along the
gradient of the target's cross-entropy; ``"fgsm"``: ``step_size`` times its sign, as iterated
FGSM) until the model predicts the target, then as many steps again past the boundary, so that
λ₁ can be seen to rise towards the boundary and fall beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .exponents import maximal_ftle
from .modules import evaluation_mode

METHODS = ("l2", "fgsm")


@dataclass(frozen=True)
class AttackPath:
    """A targeted attack's path and the stretching along it.

    Attributes
    ----------
    points : (S + 1, *input_shape) the inputs, from the start to the last step.
    ftle : (S + 1,) λ₁ at each (at ``layer``, as :func:`~ftle_widget.maximal_ftle`).
    alignment : (S,) |cos| between each step and v₁ at its start (1: the attack moves along
        the direction of maximal stretching).
    predictions : (S + 1,) the class predicted at each point.
    crossed : the first index predicted as the target (None: the attack never got there).
    """

    points: torch.Tensor
    ftle: np.ndarray
    alignment: np.ndarray
    predictions: np.ndarray
    crossed: int | None

    @property
    def peak(self) -> int:
        """The index of the largest λ₁ on the path."""
        return int(np.nanargmax(self.ftle))


def attack_path(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    target: int,
    *,
    steps: int = 200,
    step_size: float | None = None,
    beyond: float = 1.0,
    method: str = "l2",
    layer: int | str | None = None,
) -> AttackPath:
    """Attack ``model`` (a classifier: logits out) from one input ``x`` (its shape, without a
    batch axis) towards class ``target``; λ₁ and the step's alignment with v₁ along the path.

    Parameters
    ----------
    steps : at most this many steps before the prediction turns to ``target``.
    step_size : the length (``"l2"``) or the per-coordinate size (``"fgsm"``) of a step;
        default: 1 % of |x| (l2), or 1 % of x's largest |coordinate| (fgsm).
    beyond : after the crossing, this many times as many steps again (0: stop there).
    method : ``"l2"`` (normalised gradient steps) or ``"fgsm"`` (signed steps).
    layer : where λ₁ is read, as for :func:`~ftle_widget.maximal_ftle` (default: the last hidden
        layer).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be a positive int, not {steps!r}")
    point = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    point = point.detach().to(dtype).clone()
    if step_size is None:
        scale = point.norm() if method == "l2" else point.abs().max()
        step_size = 0.01 * float(scale) if float(scale) > 0 else 0.01
    goal = torch.tensor([int(target)])
    path = [point]
    crossed: int | None = None
    extra = 0
    with evaluation_mode(model):
        for k in range(steps + int(np.ceil(beyond * steps))):
            current = path[-1].detach().requires_grad_(True)
            logits = model(current[None])
            if logits.ndim != 2 or not 0 <= int(target) < logits.shape[1]:
                raise ValueError(
                    f"target {target} is not a class of this model's output {tuple(logits.shape)}"
                )
            if crossed is None and int(logits.argmax(1)) == int(target):
                crossed = k
                extra = int(np.ceil(beyond * k))
            if crossed is not None and k >= crossed + extra:
                break
            if crossed is None and k >= steps:
                break
            loss = nn.functional.cross_entropy(logits, goal)
            (grad,) = torch.autograd.grad(loss, current)
            if method == "l2":
                move = -grad / grad.norm().clamp_min(torch.finfo(grad.dtype).tiny)
            else:
                move = -grad.sign()
            path.append((current + step_size * move).detach())
    points = torch.stack(path)
    lam, vec = maximal_ftle(model, points, layer=layer, direction=True)
    with torch.no_grad(), evaluation_mode(model):
        predictions = model(points).argmax(1).cpu().numpy()
    moves = (points[1:] - points[:-1]).reshape(len(points) - 1, point.numel())
    v1 = vec[:-1].reshape(len(points) - 1, point.numel()).to(moves.dtype)
    cos = (moves * v1).sum(1).abs() / (moves.norm(dim=1) * v1.norm(dim=1)).clamp_min(1e-30)
    return AttackPath(points, lam.detach().cpu().numpy(), cos.cpu().numpy(), predictions, crossed)
