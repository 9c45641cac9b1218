"""A model probed on one sample: a general module's last hidden layer, and an endpoint's depth,
size and dependence on x.

The affine calls (:mod:`.reading` says what counts) are recorded on one full forward pass. The
last hidden layer of a general module (``layer=None``) is the input of the last affine call of
that pass: read by a forward pre-hook on its module at that call, or, for a product written in
``forward`` (``h @ W``, ``F.linear``), taken from the call itself; either stops the forward pass
there. Where no input can be read (no affine call, a single one, or a last one inside an
attention module) the logits are read instead, with a warning; a product whose input does not
lead with the batch axis is an error that names ``layer=``.

The default depth is the number of affine calls made before the endpoint is reached: every call
on the way counts (a residual block's shortcut projection too), the calls inside a named
submodule whose output is read included.

Probes and evaluations run in eval mode (:func:`~ftle_widget.maths.modules.evaluation_mode`): a
model handed over in train mode is evaluated as in eval mode (BatchNorm with its running
statistics, which are not updated; Dropout off), and every submodule's mode is restored afterwards.
The hooks are removed when the pass ends, also when it fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .endpoints import Endpoint
from .reading import CallRecorder


def find_last_hidden(model: nn.Module, endpoint: Endpoint, recorder: CallRecorder) -> str:
    """Point a pending ``"affine_input"`` endpoint at the input of the last affine call that
    ``recorder`` saw; where no such input can be read, at the logits. Returns the warning to give
    then ("" when found)."""
    kind = type(model).__name__
    calls = recorder.calls
    last = calls[-1] if calls else None
    if last is None:
        problem = f"no affine layer (nn.Linear, nn.Conv*, x @ W, F.linear) ran in {kind}.forward"
    elif last.name is None and not last.readable:
        raise ValueError(
            f"cannot read the last hidden layer of {kind}: the input of its last affine call, "
            f"{last.function} in {kind}.forward, does not lead with the batch axis (as in "
            "W @ h.T). Pass layer='<submodule name>' (a submodule whose output is that input) "
            "or layer='logits'."
        )
    elif not last.readable:
        problem = (
            f"the last affine call of {kind}.forward is in attention {last.name!r}, whose "
            "projections no hook can read"
        )
    elif len(calls) == 1:
        only = last.name if last.name is not None else last.function
        problem = f"it has no hidden layer (a single affine layer, {only!r}, ran)"
    elif last.name is None:
        endpoint.position = len(calls) - 1
        endpoint.description = (
            f"input of {last.function} (affine call {len(calls)}, last hidden layer)"
        )
        return ""
    else:
        total = recorder.per_module[last.name]
        at = "" if total == 1 else f" at its call {last.call} of {total}"
        endpoint.module_name, endpoint.call = last.name, last.call
        endpoint.description = f"input of {last.name}{at} (last hidden layer)"
        return ""
    endpoint.read_logits()
    return (
        f"cannot find the last hidden layer of {kind}: {problem}; using layer='logits'. Pass "
        "layer='<submodule name>' to read a hidden layer, as the paper does."
    )


@dataclass
class EndpointReport:
    """What one forward pass on one sample tells: depth, sizes, dependence on x, and a warning
    to give about the endpoint ("" if none)."""

    affine_calls: int
    endpoint_size: int
    input_size: int
    activation_elements: int
    warning: str = ""


def _calls_before(endpoint: Endpoint, recorder: CallRecorder) -> int:
    if endpoint.kind in ("hidden", "module"):
        returns = recorder.at_target
        return returns[endpoint.call - 1] if len(returns) >= endpoint.call else 0
    if endpoint.position is not None:
        return endpoint.position
    if endpoint.kind == "affine_input":
        for k, call in enumerate(recorder.calls):
            if (call.name, call.call) == (endpoint.module_name, endpoint.call):
                return k
    return len(recorder.calls)


def inspect_endpoint(model: nn.Module, endpoint: Endpoint, x1: torch.Tensor) -> EndpointReport:
    """Run the model on one sample ``x1`` (shape ``(1, *input_shape)``) and inspect the endpoint.

    Finds a pending last hidden layer (:func:`find_last_hidden`), counts the affine calls up to
    the endpoint, the per-sample activation size (for choosing batch sizes), and checks that the
    endpoint depends on x. A named module that runs more than once gets its call named in the
    endpoint's description.
    """
    target = None
    if endpoint.kind in ("hidden", "module"):
        target = model.get_submodule(endpoint.module_name or "")
    x1 = x1.detach().clone().requires_grad_(True)
    warning = ""
    with torch.enable_grad():
        with CallRecorder(model, target, batch=x1.shape[0]) as recorder:
            model(x1)  # a full pass: every affine call, the activation sizes
        if endpoint.pending:
            warning = find_last_hidden(model, endpoint, recorder)
        runs = len(recorder.at_target)
        if endpoint.kind == "module" and runs > 1:  # (set, not appended: a probe may be retried)
            name = f"module {endpoint.module_name!r}"
            endpoint.description = f"{name} at its call {endpoint.call} of {runs}"
        y = endpoint.function(model)(x1)
        if not torch.is_floating_point(y):
            raise TypeError(f"the endpoint {endpoint.description} is not floating point")
        grad = None
        if y.requires_grad:
            (grad,) = torch.autograd.grad(y.sum(), x1, allow_unused=True)
    if grad is None:
        raise ValueError(
            f"the endpoint {endpoint.description} does not depend on the input x (it is "
            "constant or detached from it), so it has no Jacobian: choose a layer computed from x"
        )
    return EndpointReport(
        affine_calls=_calls_before(endpoint, recorder),
        endpoint_size=y.shape[1],
        input_size=x1[0].numel(),
        activation_elements=recorder.elements,
        warning=warning,
    )
