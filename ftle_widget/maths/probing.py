"""A model probed on one sample: the affine calls its forward pass makes, a general module's last
hidden layer, and an endpoint's depth, size and dependence on x.

What counts as an affine call:

* a call of a module of :data:`~ftle_widget.maths.modules.AFFINE_TYPES` (``nn.Linear`` and its
  subclasses, ``nn.Conv*``, ``nn.ConvTranspose*``); what runs inside it is part of it;
* a call of ``nn.MultiheadAttention`` counts as two, its input and output projections (which it
  applies functionally, so no hook can read their inputs);
* a functional ``F.linear``, ``F.conv*`` or ``F.conv_transpose*`` made outside those modules (seen
  through a ``TorchFunctionMode``). Products written by hand (``x @ W.T``) are not recognised.

Only weight layers count, as in the paper: normalisations (a BatchNorm in eval mode is affine
too), pooling, embeddings and activations are part of the maps between them.

A module called twice makes two calls. The last hidden layer of a general module (``layer=None``)
is the input of the last affine call of the forward pass on the first sample evaluated, read by
a forward pre-hook on that module at that call (which stops the forward pass there). Where that
input cannot be read (no affine call, a single one, or a last one that is functional or inside an
attention module) the logits are read instead, with a warning.

The default depth is the number of affine calls made before the endpoint is reached: every call
on the way counts (a residual block's shortcut projection too), the calls inside a named
submodule whose output is read included.

Probes and evaluations run in eval mode (:func:`~ftle_widget.maths.modules.evaluation_mode`): a
model handed over in train mode is evaluated as in eval mode (BatchNorm with its running
statistics, which are not updated; Dropout off), and every submodule's mode is restored afterwards.
The hooks are removed when the pass ends, also when it fails.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from .endpoints import Endpoint
from .modules import is_affine

ATTENTION_TYPES: tuple[type[nn.Module], ...] = (nn.MultiheadAttention,)
FUNCTIONAL_AFFINE = frozenset(
    {
        F.linear,
        F.conv1d,
        F.conv2d,
        F.conv3d,
        F.conv_transpose1d,
        F.conv_transpose2d,
        F.conv_transpose3d,
    }
)


@dataclass(frozen=True)
class AffineCall:
    """One affine call: the module's name (``None`` for a functional call), which call of that
    module it is (1 for its first), and whether a pre-hook can read its input."""

    name: str | None
    call: int
    readable: bool


class _FunctionalCalls(TorchFunctionMode):
    """Tells the recorder of each functional affine call (thread-local, like every mode)."""

    def __init__(self, recorder: CallRecorder):
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in FUNCTIONAL_AFFINE:
            self.recorder.functional()
        return func(*args, **(kwargs or {}))


class CallRecorder:
    """Records, during forward passes in this thread: the affine calls made (:attr:`calls`), the
    calls per module, the elements of the leaves' outputs, and how many affine calls had been
    made when ``target`` first returned (:attr:`at_target`). A context manager: hooks and mode
    live inside the ``with`` only."""

    def __init__(self, model: nn.Module, target: nn.Module | None = None):
        self.model, self.target = model, target
        self.calls: list[AffineCall] = []
        self.per_module: dict[str, int] = {}
        self.elements = 0
        self.at_target: int | None = None
        self._inside = 0
        self._owner = threading.get_ident()
        self._stack = ExitStack()

    def __enter__(self) -> CallRecorder:
        try:
            for name, module in self.model.named_modules():
                if is_affine(module) or isinstance(module, ATTENTION_TYPES):
                    self._hook(module.register_forward_pre_hook(partial(self._enter, name)))
                    self._hook(module.register_forward_hook(self._leave))
                if not list(module.children()):
                    self._hook(module.register_forward_hook(self._count))
            if self.target is not None:
                self._hook(self.target.register_forward_hook(self._reach))
            self._stack.enter_context(_FunctionalCalls(self))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _hook(self, handle: torch.utils.hooks.RemovableHandle) -> None:
        self._stack.callback(handle.remove)

    def _mine(self) -> bool:
        return threading.get_ident() == self._owner

    def _enter(self, name: str, module: nn.Module, _args: object) -> None:
        if not self._mine():
            return
        if self._inside == 0:
            call = self.per_module[name] = self.per_module.get(name, 0) + 1
            if isinstance(module, ATTENTION_TYPES):
                self.calls.append(AffineCall(f"{name} (input projection)", call, False))
                self.calls.append(AffineCall(f"{name} (output projection)", call, False))
            else:
                self.calls.append(AffineCall(name, call, True))
        self._inside += 1

    def _leave(self, _module: nn.Module, _args: object, _out: object) -> None:
        if self._mine():
            self._inside = max(self._inside - 1, 0)

    def functional(self) -> None:
        if self._mine() and self._inside == 0:
            self.calls.append(AffineCall(None, 0, False))

    def _count(self, _module: nn.Module, _args: object, out: object) -> None:
        if self._mine() and isinstance(out, torch.Tensor):
            self.elements += out.numel()

    def _reach(self, _module: nn.Module, _args: object, _out: object) -> None:
        if self._mine() and self.at_target is None:
            self.at_target = len(self.calls)


def find_last_hidden(model: nn.Module, endpoint: Endpoint, recorder: CallRecorder) -> str:
    """Point a pending ``"affine_input"`` endpoint at the input of the last affine call that
    ``recorder`` saw; where no such input can be read, at the logits. Returns the warning to give
    then ("" when found)."""
    kind = type(model).__name__
    calls = recorder.calls
    if not calls:
        problem = f"no affine layer (nn.Linear, nn.Conv*) ran in {kind}.forward"
    elif not calls[-1].readable:
        last = calls[-1].name
        where = "a functional F.linear/F.conv*" if last is None else f"in attention {last!r}"
        problem = (
            f"the last affine call of {kind}.forward is {where}, not an nn.Linear/nn.Conv* "
            "module whose input a hook can read"
        )
    elif len(calls) == 1:
        problem = f"it has no hidden layer (a single affine layer, {calls[0].name!r}, ran)"
    else:
        last_call = calls[-1]
        name = last_call.name or ""
        total = recorder.per_module[name]
        at = "" if total == 1 else f" at its call {last_call.call} of {total}"
        endpoint.module_name, endpoint.call = name, last_call.call
        endpoint.description = f"input of {name}{at} (last hidden layer)"
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
        return recorder.at_target or 0
    if endpoint.kind == "affine_input":
        for k, call in enumerate(recorder.calls):
            if (call.name, call.call) == (endpoint.module_name, endpoint.call):
                return k
    return len(recorder.calls)


def inspect_endpoint(model: nn.Module, endpoint: Endpoint, x1: torch.Tensor) -> EndpointReport:
    """Run the model on one sample ``x1`` (shape ``(1, *input_shape)``) and inspect the endpoint.

    Finds a pending last hidden layer (:func:`find_last_hidden`), counts the affine calls up to
    the endpoint, the per-sample activation size (for choosing batch sizes), and checks that the
    endpoint depends on x.
    """
    target = None
    if endpoint.kind in ("hidden", "module"):
        target = model.get_submodule(endpoint.module_name or "")
    x1 = x1.detach().clone().requires_grad_(True)
    warning = ""
    with torch.enable_grad():
        with CallRecorder(model, target) as recorder:
            model(x1)  # a full pass: every affine call, the activation sizes
        if endpoint.pending:
            warning = find_last_hidden(model, endpoint, recorder)
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
