"""A forward pass watched and read: the affine calls it makes, as they happen, and where it is
stopped to read an endpoint (a module's output or input at its k-th call, the input of a
functional affine call).

What counts as an affine call:

* a call of a module of :data:`~ftle_widget.maths.modules.AFFINE_TYPES` (``nn.Linear`` and its
  subclasses, ``nn.Conv*``, ``nn.ConvTranspose*``); what runs inside it is part of it;
* a call of ``nn.MultiheadAttention`` counts as two, its input and output projections (which it
  applies functionally, so no hook can read their inputs);
* outside those modules, a product written in ``forward`` (seen through a ``TorchFunctionMode``):
  ``F.linear``, ``F.conv*``, ``F.conv_transpose*``, ``@`` / ``matmul``, ``mm``, ``bmm``, ``mv``,
  ``addmm``, ``addmv``, ``baddbmm``, ``tensordot`` or ``einsum`` where one factor is the data
  (computed from x) and every other factor is a weight: computed from the model's parameters
  (``W``, ``W.T``, ``scale * W``), buffers and constants only, at least one parameter among them.
  Its input is that data factor; products of two data factors (attention scores) do not count.

Only weight layers count, as in the paper: normalisations (a BatchNorm in eval mode is affine
too), pooling, embeddings and activations are part of the maps between them. A module called
twice makes two calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from .modules import is_affine

ATTENTION_TYPES: tuple[type[nn.Module], ...] = (nn.MultiheadAttention,)

T = torch.Tensor
# function → (its name in messages, the positions and keywords of its factors)
_PAIR = ((0, "input"), (1, "other"))
_MAT2 = ((0, "input"), (1, "mat2"))
_ADD = ((1, "mat1"), (2, "mat2"))
_LAYERS = ("linear", "conv1d", "conv2d", "conv3d", *(f"conv_transpose{k}d" for k in (1, 2, 3)))
_FUNCTIONAL: dict[Callable[..., Any], tuple[str, tuple[tuple[int, str], ...]]] = {
    **{getattr(F, name): (f"F.{name}", ((0, "input"), (1, "weight"))) for name in _LAYERS},
    torch.matmul: ("torch.matmul", _PAIR),
    T.matmul: ("@", _PAIR),
    T.__matmul__: ("@", _PAIR),
    T.__rmatmul__: ("@", _PAIR),
    torch.mm: ("torch.mm", _MAT2),
    T.mm: ("Tensor.mm", _MAT2),
    torch.bmm: ("torch.bmm", _MAT2),
    T.bmm: ("Tensor.bmm", _MAT2),
    torch.mv: ("torch.mv", ((0, "input"), (1, "vec"))),
    T.mv: ("Tensor.mv", ((0, "input"), (1, "vec"))),
    torch.addmm: ("torch.addmm", _ADD),
    T.addmm: ("Tensor.addmm", _ADD),
    torch.baddbmm: ("torch.baddbmm", ((1, "batch1"), (2, "batch2"))),
    T.baddbmm: ("Tensor.baddbmm", ((1, "batch1"), (2, "batch2"))),
    torch.addmv: ("torch.addmv", ((1, "mat"), (2, "vec"))),
    T.addmv: ("Tensor.addmv", ((1, "mat"), (2, "vec"))),
    torch.tensordot: ("torch.tensordot", ((0, "a"), (1, "b"))),
}


# Calls that read another tensor's dtype, device or shape only: what they return depends on x no
# more than their first argument (``_CAST``) or not at all (``_FRESH``).
_CAST = frozenset({T.to, T.type_as})
_FRESH = frozenset(
    {T.new_zeros, T.new_ones, T.new_empty, T.new_full, T.new_tensor}
    | {torch.zeros_like, torch.ones_like, torch.empty_like, torch.full_like}
)


@dataclass(frozen=True)
class AffineCall:
    """One affine call: the module's name (``None`` for a functional call), which call of that
    module it is (1 for its first), whether its input can be read, and for a functional call
    what was called (e.g. ``"F.linear"``, ``"@"``)."""

    name: str | None
    call: int
    readable: bool
    function: str = ""


class Reached(Exception):
    """Raised in a forward pass to stop it once the endpoint is computed."""

    def __init__(self, output: torch.Tensor):
        super().__init__()
        self.output = output


def _tensors(value: object) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _factors(func: Callable[..., Any], args: tuple, kwargs: dict) -> list[object] | None:
    """The factors of a product ``func`` (``None`` if it is none of :data:`_FUNCTIONAL`)."""
    if func is torch.einsum:
        rest = args[1:]
        return list(rest[0]) if len(rest) == 1 and isinstance(rest[0], list | tuple) else list(rest)
    entry = _FUNCTIONAL.get(func)
    if entry is None:
        return None
    return [args[i] if i < len(args) else kwargs.get(key) for i, key in entry[1]]


class _Watch(TorchFunctionMode):
    """Shows the recorder every torch call of this thread (modes are thread-local)."""

    def __init__(self, recorder: CallRecorder):
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        self.recorder.functional(func, args, kwargs)
        out = func(*args, **kwargs)
        self.recorder.track(func, args, kwargs, out)
        return out


class CallRecorder:
    """Records, during forward passes in this thread: the affine calls made (:attr:`calls`), the
    calls per module, the elements of the leaves' outputs (with ``sizes``), and how many affine
    calls had been made at each return of ``target`` (:attr:`at_target`). A context manager:
    hooks and mode live inside the ``with`` only.

    ``batch``: the leading size of the inputs, which a functional call's data factor must have
    to be readable. ``stop``: raise :class:`Reached` with the data factor of the affine call at
    that index of :attr:`calls` (a functional one).
    """

    def __init__(
        self,
        model: nn.Module,
        target: nn.Module | None = None,
        *,
        batch: int | None = None,
        stop: int | None = None,
        sizes: bool = True,
    ):
        self.model, self.target, self.batch, self.stop = model, target, batch, stop
        self.sizes = sizes
        self.calls: list[AffineCall] = []
        self.per_module: dict[str, int] = {}
        self.elements = 0
        self.at_target: list[int] = []
        self._inside = 0
        self._owner = threading.get_ident()
        self._stack = ExitStack()
        # x-independent tensors of this pass (held, so that their ids stay theirs): id → (tensor,
        # whether a parameter went into it)
        self._fixed: dict[int, tuple[torch.Tensor, bool]] = {}

    def __enter__(self) -> CallRecorder:
        try:
            for name, module in self.model.named_modules():
                if is_affine(module) or isinstance(module, ATTENTION_TYPES):
                    self._hook(module.register_forward_pre_hook(partial(self._enter, name)))
                    self._hook(module.register_forward_hook(self._leave))
                if self.sizes and not list(module.children()):
                    self._hook(module.register_forward_hook(self._count))
            if self.target is not None:
                self._hook(self.target.register_forward_hook(self._reach))
            self._fixed = {id(p): (p, True) for p in self.model.parameters()}
            self._fixed.update((id(b), (b, False)) for b in self.model.buffers())
            self._stack.callback(self._fixed.clear)
            self._stack.enter_context(_Watch(self))
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

    def functional(self, func: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        """Record ``func(*args, **kwargs)`` if it is an affine call (see the module docstring);
        stop the pass there if it is the one to read."""
        if self._inside or not self._mine():
            return
        factors = _factors(func, args, kwargs)
        if factors is None:
            return
        tensors = [f for f in factors if isinstance(f, torch.Tensor)]
        data = [t for t in tensors if id(t) not in self._fixed]
        if len(data) != 1 or not any(self._fixed[id(t)][1] for t in tensors if t is not data[0]):
            return
        if len(self.calls) == self.stop:
            raise Reached(data[0])
        lead = data[0].shape[0] if data[0].ndim else None
        name = "torch.einsum" if func is torch.einsum else _FUNCTIONAL[func][0]
        self.calls.append(AffineCall(None, 0, self.batch in (None, lead), name))

    def track(self, func: Callable[..., Any], args: tuple, kwargs: dict, out: object) -> None:
        """Mark what ``func`` returned as independent of x where all it took was."""
        fixed = self._fixed
        if not fixed:  # the pass is over
            return
        taken = [] if func in _FRESH else list(_tensors((args, kwargs)))
        if func in _CAST:
            taken = taken[:1]
        if all(id(t) in fixed for t in taken):
            weight = any(fixed[id(t)][1] for t in taken)
            for t in _tensors(out):
                fixed.setdefault(id(t), (t, weight))
            return
        name = getattr(func, "__name__", "")
        in_place = name == "__setitem__" or name.startswith("__i")
        in_place = in_place or (name.endswith("_") and not name.endswith("__"))
        if in_place and taken:  # x written into a fixed tensor: it depends on x now
            fixed.pop(id(taken[0]), None)
        for t in _tensors(out):
            fixed.pop(id(t), None)

    def _count(self, _module: nn.Module, _args: object, out: object) -> None:
        if self._mine() and isinstance(out, torch.Tensor):
            self.elements += out.numel()

    def _reach(self, _module: nn.Module, _args: object, _out: object) -> None:
        if self._mine():
            self.at_target.append(len(self.calls))


def read_call(model: nn.Module, x: torch.Tensor, position: int) -> torch.Tensor:
    """Run ``model(x)`` and return the data factor of its affine call at ``position`` (0 for the
    first), a functional one, stopping there."""
    with CallRecorder(model, stop=position, sizes=False) as recorder:
        try:
            model(x)
        except Reached as reached:
            data = reached.output
        else:
            raise ValueError(
                f"model.forward made {len(recorder.calls)} affine call(s), not {position + 1}: "
                "the forward pass differs from the one its last hidden layer was found on; "
                "name a submodule with layer='...'"
            )
    if data.ndim == 0 or data.shape[0] != x.shape[0]:
        raise ValueError(
            f"the input of the affine call read (shaped {tuple(data.shape)}) does not lead "
            f"with the batch of {x.shape[0]}: name a submodule with layer='...' instead"
        )
    return data


def read_module(
    model: nn.Module, module: nn.Module, x: torch.Tensor, name: str, call: int = 1
) -> torch.Tensor:
    """Run ``model(x)`` and return the output of ``module`` at its ``call``-th call, stopping
    there."""
    output, seen = _read_call(model, module, x, call, before=False)
    if output is not None:
        return output
    if seen == 0:
        raise ValueError(
            f"the submodule {name!r} was never called in model.forward, so its output is not a "
            "function of x: name a submodule that the forward pass uses"
        )
    raise ValueError(
        f"the submodule {name!r} was called {seen} time(s) in model.forward, not {call}: "
        "name a submodule that the forward pass calls there with layer='...'"
    )


def read_input(
    model: nn.Module, module: nn.Module, x: torch.Tensor, name: str, call: int = 1
) -> torch.Tensor:
    """Run ``model(x)`` and return the input of ``module`` at its ``call``-th call, stopping
    there (in its forward pre-hook, before it runs)."""
    output, seen = _read_call(model, module, x, call, before=True)
    if output is not None:
        return output
    raise ValueError(
        f"the submodule {name!r} was called {seen} time(s) in model.forward, not {call}: the "
        "forward pass differs from the one its last hidden layer was found on; name a "
        "submodule with layer='...'"
    )


def _read_call(
    model: nn.Module, module: nn.Module, x: torch.Tensor, call: int, before: bool
) -> tuple[torch.Tensor | None, int]:
    """Run ``model(x)`` to ``module``'s ``call``-th call in this thread, stopping there: its
    input (``before``) or output, or ``None`` if it never got there; and the calls seen."""
    owner = threading.get_ident()
    seen = [0]

    def reached(value: Callable[[], torch.Tensor]) -> None:
        if threading.get_ident() == owner:
            seen[0] += 1
            if seen[0] == call:
                raise Reached(value())

    if before:
        handle = module.register_forward_pre_hook(
            lambda _mod, args, kwargs: reached(
                lambda: args[0] if args else next(iter(kwargs.values()))
            ),
            with_kwargs=True,
        )
    else:
        handle = module.register_forward_hook(lambda _mod, _inp, out: reached(lambda: out))
    try:
        model(x)
    except Reached as stop:
        return stop.output, seen[0]
    finally:
        handle.remove()
    return None, seen[0]
