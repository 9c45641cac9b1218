"""What a torch module is, read without computing exponents: its layers in call order, device,
float dtype, a fingerprint of its weights, the input shape it expects; eval mode."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import cast

import numpy as np
import torch
from torch import nn

AFFINE_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.modules.conv._ConvNd)


def sequential_leaves(model: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]] | None:
    """The leaves of a (nested) plain ``nn.Sequential`` in call order, or ``None`` if not one;
    an instance that the Sequential holds at several places is listed at each of them."""
    if type(model).forward is not nn.Sequential.forward:
        return None
    leaves: list[tuple[str, nn.Module]] = []
    for name, child in model._modules.items():  # named_children() would skip a reused child
        if child is None:
            continue
        full = f"{prefix}{name}"
        if isinstance(child, nn.Sequential) and type(child).forward is nn.Sequential.forward:
            inner = sequential_leaves(child, full + ".")
            if inner is None:
                return None
            leaves.extend(inner)
        else:
            leaves.append((full, child))
    return leaves


def is_affine(module: nn.Module) -> bool:
    return isinstance(module, AFFINE_TYPES)


@contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[None]:
    """Put every submodule in eval mode; restore each one's training flag afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


_kernel_lock = threading.Lock()
_kernel_users: list[int] = [0]
_kernel_saved: dict[str, bool] = {}
_KERNEL_FLAGS = {  # torch's switch: (is it on, turn it on/off, what FTLEs need)
    "flash": ("flash_sdp_enabled", "enable_flash_sdp", False),
    "mem_efficient": ("mem_efficient_sdp_enabled", "enable_mem_efficient_sdp", False),
    "cudnn": ("cudnn_sdp_enabled", "enable_cudnn_sdp", False),
    "math": ("math_sdp_enabled", "enable_math_sdp", True),
}


def _kernel_switches() -> dict[str, tuple]:
    """The attention switches this torch has: name → (getter, setter, wanted)."""
    found = {}
    for name, (get, put, wanted) in _KERNEL_FLAGS.items():
        if hasattr(torch.backends.cuda, get) and hasattr(torch.backends.cuda, put):
            found[name] = (
                getattr(torch.backends.cuda, get),
                getattr(torch.backends.cuda, put),
                wanted,
            )
    mha = getattr(torch.backends, "mha", None)
    if mha is not None and hasattr(mha, "get_fastpath_enabled"):
        found["fastpath"] = (mha.get_fastpath_enabled, mha.set_fastpath_enabled, False)
    return found


@contextmanager
def differentiable_kernels() -> Iterator[None]:
    """While FTLEs are computed, attention runs through its plain ("math") kernel: torch's fused
    paths (``nn.TransformerEncoderLayer``'s fast path, flash and memory-efficient attention) have
    no forward-mode derivative. These switches are process-wide: they are set when the first
    computation starts and restored when the last one ends (other threads' attention meanwhile
    runs the plain kernel too: slower, same values up to rounding)."""
    switches = _kernel_switches()
    with _kernel_lock:
        if _kernel_users[0] == 0:
            for name, (get, put, wanted) in switches.items():
                _kernel_saved[name] = bool(get())
                put(wanted)
        _kernel_users[0] += 1
    try:
        yield
    finally:
        with _kernel_lock:
            _kernel_users[0] -= 1
            if _kernel_users[0] == 0:
                for name, (_get, put, _wanted) in switches.items():
                    put(_kernel_saved.pop(name))


def model_device(model: nn.Module) -> torch.device | None:
    """The device of the model's first parameter or buffer (``None`` if it has neither)."""
    for t in model.parameters():
        return t.device
    for b in model.buffers():
        return b.device
    return None


def model_float_dtype(model: nn.Module) -> torch.dtype | None:
    """The dtype of the model's first floating parameter (``None`` if it has none)."""
    for t in model.parameters():
        if torch.is_floating_point(t):
            return t.dtype
    return None


FINGERPRINT_SAMPLE = 64  # values per tensor that weights_fingerprint reads


def weights_fingerprint(model: nn.Module, values: bool = False) -> tuple:
    """What identifies the current weights, cheaply: for every parameter and buffer its storage
    and version counter (moved by in-place writes such as an optimizer step) and, with
    ``values``, a digest of up to :data:`FINGERPRINT_SAMPLE` evenly spaced values. Writes
    through ``param.data`` (older training code) move no version counter: the sample sees any
    update that changes most values (every optimizer step does); a write to a few values
    outside it goes unseen."""
    tensors = list(itertools.chain(model.parameters(), model.buffers()))
    parts: tuple = tuple((t.data_ptr(), t._version) for t in tensors)
    if values and tensors:
        samples = []
        for t in tensors:
            flat = t.detach().reshape(-1)
            samples.append(flat[:: max(1, flat.numel() // FINGERPRINT_SAMPLE)][:FINGERPRINT_SAMPLE])
        parts += (hash(torch.cat([x.double() for x in samples]).cpu().numpy().tobytes()),)
    return parts


def expected_input_shape(model: nn.Module) -> tuple[int | None, ...] | None:
    """The per-sample input shape a plain Sequential expects, ``None`` entries unknown."""
    leaves = sequential_leaves(model)
    if not leaves:
        return None
    first = leaves[0][1]
    if isinstance(first, nn.Linear):
        return (first.in_features,)
    if isinstance(first, nn.modules.conv._ConvNd):
        dims = len(first.kernel_size)
        return (first.in_channels, *([None] * dims))
    return None


def known_input_shape(
    model: nn.Module, remedy: str, data=None, input_shape: int | Sequence[int] | None = None
) -> tuple[int, ...]:
    """The per-sample input shape: ``input_shape`` if given (checked against ``data`` and the
    model's first layer), else that of ``data`` (N, ...), else the one the model's first layer
    fixes; a ValueError ending in ``remedy`` when none tells it (e.g. a model whose first layer is
    neither Linear nor Conv, or a convolution, which fixes the channels only)."""
    expected = expected_input_shape(model)
    if input_shape is not None:
        shape = check_input_shape(input_shape)
        if data is not None and tuple(np.shape(data)[1:]) != shape:
            raise ValueError(
                f"input_shape={shape} does not match the data, shaped (N, "
                f"{', '.join(map(str, np.shape(data)[1:]))})"
            )
        if expected is not None and not (
            len(expected) == len(shape) and all(e in (None, s) for e, s in zip(expected, shape))
        ):
            want = ", ".join("*" if e is None else str(e) for e in expected)
            raise ValueError(f"input_shape={shape}, but this model expects inputs shaped ({want})")
        return shape
    if data is not None:
        return tuple(np.asarray(data).shape[1:])
    if expected is None or any(s is None for s in expected):
        raise ValueError(f"cannot tell this model's input shape: {remedy}")
    return cast("tuple[int, ...]", tuple(expected))  # no None entries, as just checked


def check_input_shape(input_shape: int | Sequence[int]) -> tuple[int, ...]:
    """``input_shape`` as a tuple of positive ints (the shape of one input, no batch axis)."""
    given = [input_shape] if isinstance(input_shape, int) else input_shape
    try:
        shape = tuple(int(s) for s in given)
        exact = all(int(s) == s and not isinstance(s, bool) for s in given)
    except (TypeError, ValueError):
        shape, exact = (), False
    if not shape or not exact or min(shape) < 1:
        raise ValueError(
            f"input_shape must be the shape of one input, positive ints without the batch axis "
            f"(e.g. input_shape=(3, 32, 32)), not {input_shape!r}"
        )
    return shape


def check_input(model: nn.Module, x: torch.Tensor) -> None:
    """Raise a clear error when ``x`` is not a floating batch of the model's input shape."""
    if not torch.is_floating_point(x):
        raise TypeError(
            f"x has dtype {x.dtype}; FTLEs need floating point inputs: pass x.float() "
            "(or x.double() for float64 results)"
        )
    shape = expected_input_shape(model)
    if shape is None:
        if x.ndim < 2:
            raise ValueError(
                f"x has shape {tuple(x.shape)}: expected a batch (B, *input_shape); for one "
                "point use x[None]"
            )
        return
    want = "(B, " + ", ".join("*" if s is None else str(s) for s in shape) + ")"
    ok = x.ndim == len(shape) + 1 and all(s is None or s == t for s, t in zip(shape, x.shape[1:]))
    if not ok:
        extra = ""
        if x.ndim == len(shape) and all(s is None or s == t for s, t in zip(shape, x.shape)):
            extra = "; for one point use x[None]"
        raise ValueError(
            f"x has shape {tuple(x.shape)}, but this model expects inputs shaped {want}{extra}"
        )


def describe_input_error(model: nn.Module, x: torch.Tensor, error: Exception) -> ValueError:
    """Turn a shape error raised inside the model into one that names the input shapes."""
    first = next((m for m in model.modules() if is_affine(m)), None)
    hint = ""
    if isinstance(first, nn.Linear):
        hint = f" The first affine layer is Linear({first.in_features}, {first.out_features})."
    elif isinstance(first, nn.modules.conv._ConvNd):
        hint = (
            f" The first affine layer is {type(first).__name__} with {first.in_channels} "
            "input channel(s)."
        )
    return ValueError(
        f"the model failed on x of shape {tuple(x.shape)}: {error}.{hint} Pass a batch shaped "
        "(B, *input_shape) of the model's inputs."
    )
