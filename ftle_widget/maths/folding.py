"""A faster copy of a general module for its Jacobians; the user's model is never modified.

In eval mode a BatchNorm is a per-channel affine map: right after a convolution it folds into the
convolution's weights and bias (one layer less forward and backward). Convolutions in 2-D run in
the channels_last memory format (faster mkldnn kernels, same values). Folding needs the data flow,
read by ``torch.fx``; a model that cannot be traced keeps its BatchNorms. The copy is checked
against the model on the first points before it is used (:func:`agrees`).
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Callable

import torch
from torch import fx, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .modules import model_float_dtype, weights_fingerprint

# A convolution and the BatchNorm that normalises its output channels.
_PAIRS: dict[type[nn.Module], type[nn.Module]] = {
    nn.Conv1d: nn.BatchNorm1d,
    nn.Conv2d: nn.BatchNorm2d,
    nn.Conv3d: nn.BatchNorm3d,
}


def _hooked(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks)


def fold_batchnorms(model: nn.Module, keep: str | None = None) -> tuple[nn.Module, int]:
    """``model`` (an eval-mode copy the caller owns) with each eval BatchNorm that only follows a
    convolution folded into it, and the number folded.

    ``keep`` names a submodule whose output is read (an endpoint): it is neither folded nor
    folded into, and a model that does not call it as a leaf is returned unchanged. So is a
    model ``torch.fx`` cannot trace.
    """
    if not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        return model, 0
    try:
        traced = fx.symbolic_trace(model)
    except Exception:  # any tracing failure means: do not fold
        return model, 0
    nodes = [n for n in traced.graph.nodes if n.op == "call_module"]
    calls = Counter(str(n.target) for n in nodes)
    if keep is not None and keep not in calls:
        return model, 0
    modules = dict(traced.named_modules())
    folded = 0
    for node in nodes:
        bn, conv_node = modules[str(node.target)], node.args[0] if node.args else None
        if not isinstance(conv_node, fx.Node) or conv_node.op != "call_module":
            continue
        conv = modules[str(conv_node.target)]
        names = (str(node.target), str(conv_node.target))
        if (
            _PAIRS.get(type(conv)) is not type(bn)
            or len(node.args) != 1
            or node.kwargs
            or len(conv_node.users) != 1
            or calls[names[1]] != 1  # a shared convolution keeps its weights
            or keep in names
            or _hooked(bn)
            or _hooked(conv)
        ):
            continue
        assert isinstance(bn, nn.modules.batchnorm._BatchNorm)
        assert isinstance(conv, nn.modules.conv._ConvNd)
        if not bn.track_running_stats or bn.running_mean is None or bn.running_var is None:
            continue  # normalised by batch statistics: not an affine map of one sample
        parent, _, name = names[1].rpartition(".")
        setattr(traced.get_submodule(parent), name, fuse_conv_bn_eval(conv, bn))
        node.replace_all_uses_with(conv_node)
        traced.graph.erase_node(node)
        folded += 1
    if not folded:
        return model, 0
    traced.delete_all_unused_submodules()
    traced.recompile()
    return traced, folded


def fast_copy(model: nn.Module, keep: str | None = None) -> nn.Module | None:
    """An eval-mode copy of ``model`` with BatchNorms folded and, on the CPU, 2-D convolutions
    in channels_last (measured faster there only), its parameters detached from autograd;
    ``None`` when neither applies or the model cannot be copied."""
    on_cpu = all(
        t.device.type == "cpu" for t in itertools.chain(model.parameters(), model.buffers())
    )
    has_conv2d = on_cpu and any(isinstance(m, nn.Conv2d) for m in model.modules())
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    if not (has_conv2d or has_bn):
        return None
    try:
        clone = copy.deepcopy(model)
    except Exception:  # an uncopyable model runs as it is
        return None
    clone.eval()
    clone.requires_grad_(False)
    clone, folded = fold_batchnorms(clone, keep)
    if has_conv2d:
        for conv in clone.modules():
            if isinstance(conv, nn.Conv2d):
                weight = conv.weight.detach().contiguous(memory_format=torch.channels_last)
                conv.weight = nn.Parameter(weight, requires_grad=False)
    elif not folded:
        return None
    clone.eval()
    return clone


def channels_last_input(x: torch.Tensor) -> torch.Tensor:
    """``x`` in the channels_last format where it is a batch of images (B, C, H, W) on the CPU."""
    cpu = x.device.type == "cpu"
    return x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 and cpu else x


def agrees(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two evaluations of one endpoint agree to rounding (folding reorders products)."""
    if a.shape != b.shape:
        return False
    finite = torch.isfinite(a)
    if not torch.equal(finite, torch.isfinite(b)):
        return False
    a, b = a[finite], b[finite]
    tol = 1e-9 if a.dtype == torch.float64 else 1e-4
    scale = 1 + float(a.abs().max()) if a.numel() else 1.0
    return bool(((a - b).abs() <= tol * scale).all())


class FastCopies:
    """A model's fast copy per dtype, remade when its weights change, kept only where it agrees
    with the model on the first points it is used for."""

    def __init__(self) -> None:
        self._held: dict[torch.dtype, tuple[tuple, nn.Module | None]] = {}

    def get(
        self,
        model: nn.Module,
        function: Callable[[nn.Module], Callable[[torch.Tensor], torch.Tensor]],
        keep: str | None,
        x: torch.Tensor,
    ) -> nn.Module | None:
        """The fast copy of ``model`` (``None`` where there is none or it disagrees on ``x``);
        ``function(model)`` maps a batch to the endpoint, ``keep`` names the module it reads."""
        dtype = model_float_dtype(model) or x.dtype
        stamp = weights_fingerprint(model)
        held = self._held.get(dtype)
        if held is None or held[0] != stamp:
            fast = fast_copy(model, keep)
            if fast is not None:
                sample = x[:2]
                try:
                    want = function(model)(sample)
                    fast = (
                        fast if agrees(want, function(fast)(channels_last_input(sample))) else None
                    )
                except Exception:  # a copy that fails is not used
                    fast = None
            self._held[dtype] = held = (stamp, fast)
        return held[1]
