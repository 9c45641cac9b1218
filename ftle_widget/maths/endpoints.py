"""Where the network is read: the endpoint of the Jacobian and the depth that divides log Λ₁.

The endpoint is named by ``layer``:

* ``None``: the paper's choice, the last hidden layer. For an ``nn.Sequential`` of affine layers
  (``Linear``, ``Conv*``) and activations this is the representation that enters the last affine
  layer, i.e. the output of the activation after the last-but-one affine layer. For any other
  module it cannot be inferred: ``"logits"`` is used and a warning is given once per model.
* an ``int`` ℓ: after the ℓ-th hidden layer's activation (``nn.Sequential`` only; ``-1`` is the
  last hidden layer).
* a ``str``: a submodule name as listed by ``model.named_modules()``, or ``"logits"`` (the model's
  output) or ``"probabilities"`` (softmax over dim 1 of the output; sigmoid for one output).

The default depth is the number of affine layers (``Linear``/``Conv*`` calls) from the input to the
endpoint: ℓ for hidden layer ℓ, L + 1 for the logits of an L-hidden-layer network.
"""

from __future__ import annotations

import difflib
import threading
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .modules import is_affine, sequential_leaves

SPECIAL_LAYERS = ("logits", "probabilities")

# Activations that act elementwise: the Jacobian of such a module is diagonal.
ELEMENTWISE_TYPES: tuple[type[nn.Module], ...] = (
    nn.Tanh,
    nn.Sigmoid,
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.CELU,
    nn.SELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Softplus,
    nn.Softsign,
    nn.Hardtanh,
    nn.ReLU6,
    nn.Hardsigmoid,
    nn.Hardswish,
    nn.LogSigmoid,
    nn.Tanhshrink,
    nn.Identity,
)
DROPOUT_TYPES: tuple[type[nn.Module], ...] = (
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
)

_warned_models: weakref.WeakSet[nn.Module] = weakref.WeakSet()


def mark_warned(model: nn.Module) -> None:
    """Give no "cannot infer the last hidden layer" warning for ``model`` (e.g. a snapshot of a
    model that was already warned about)."""
    _warned_models.add(model)


class _Reached(Exception):
    """Raised by a forward hook to stop the forward pass once the endpoint is computed."""

    def __init__(self, output: torch.Tensor):
        super().__init__()
        self.output = output


@dataclass(frozen=True)
class Stage:
    """One step of a fast-path chain: ``linear`` (W, b), ``elementwise`` (module) or ``softmax``."""

    kind: str
    module: nn.Module | None = None


@dataclass
class Endpoint:
    """A resolved endpoint: what is read and how to compute it (its depth is counted on a
    first sample by :func:`inspect_endpoint`).

    Attributes
    ----------
    kind : "hidden", "module", "logits" or "probabilities".
    description : human-readable name, e.g. ``"hidden layer 8 (module '15')"``.
    module_name : the submodule whose output is read (``None`` for logits and probabilities).
    chain : for plain ``nn.Sequential`` MLPs, the stages of the whole model with
        ``chain_end`` the number of stages up to the endpoint; else ``None``.
    """

    kind: str
    description: str
    module_name: str | None
    chain: list[Stage] | None = None
    chain_end: int = 0

    def function(self, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """The map from a batch ``(B, *input_shape)`` to the flattened endpoint ``(B, n)``.

        ``model`` is the module to run (the user's model or a converted copy of it with the same
        structure); the endpoint module is looked up in it by name.
        """
        if self.kind == "logits":
            return lambda x: _flat(model(x))
        if self.kind == "probabilities":
            return lambda x: _flat(probabilities(model(x)))
        module = model.get_submodule(self.module_name or "")
        return lambda x: _flat(read_module(model, module, x, self.module_name or ""))


def _flat(y: torch.Tensor) -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        raise TypeError(
            f"the model returned {type(y).__name__}, not a tensor: wrap it so that forward "
            "returns one tensor (B, ...), or name a submodule with layer='...'"
        )
    return y.reshape(y.shape[0], -1) if y.ndim > 1 else y.reshape(-1, 1)


def probabilities(output: torch.Tensor) -> torch.Tensor:
    """Softmax over the class dimension (dim 1); sigmoid for a single output."""
    if output.ndim == 1 or output[0].numel() == 1:
        return torch.sigmoid(output)
    return torch.softmax(output, dim=1)


def read_module(model: nn.Module, module: nn.Module, x: torch.Tensor, name: str) -> torch.Tensor:
    """Run ``model(x)`` and return the output of ``module`` at its first call, stopping there."""
    owner = threading.get_ident()

    def hook(_mod: nn.Module, _inp: object, out: torch.Tensor) -> None:
        if threading.get_ident() == owner:
            raise _Reached(out)

    handle = module.register_forward_hook(hook)
    try:
        model(x)
    except _Reached as reached:
        return reached.output
    finally:
        handle.remove()
    raise ValueError(
        f"the submodule {name!r} was never called in model.forward, so its output is not a "
        "function of x: name a submodule that the forward pass uses"
    )


def _chain_stages(leaves: list[tuple[str, nn.Module]]) -> list[Stage] | None:
    """Stages of a Linear/Conv/elementwise chain, or ``None`` where a leaf is anything else.

    Conv stages become dense matrices once the input shape is known (see
    :func:`ftle_widget.maths.jacobians.densify`).
    """
    stages: list[Stage] = []
    for _, leaf in leaves:
        if isinstance(leaf, nn.Linear):
            stages.append(Stage("linear", leaf))
        elif isinstance(leaf, nn.modules.conv._ConvNd):
            stages.append(Stage("conv", leaf))
        elif isinstance(leaf, ELEMENTWISE_TYPES):
            if not isinstance(leaf, nn.Identity):
                stages.append(Stage("elementwise", leaf))
        elif isinstance(leaf, DROPOUT_TYPES):
            continue  # identity in eval mode
        elif isinstance(leaf, nn.Flatten) and leaf.start_dim == 1 and leaf.end_dim == -1:
            continue  # the chain works on flattened samples throughout
        else:
            return None
    if not stages or stages[0].kind not in ("linear", "conv"):
        return None
    return stages


def hidden_layer_count(model: nn.Module) -> int | None:
    """L, the number of hidden layers of a plain ``nn.Sequential``; ``None`` for other modules."""
    leaves = sequential_leaves(model)
    if leaves is None:
        return None
    return max(sum(is_affine(m) for _, m in leaves) - 1, 0)


def _module_names(model: nn.Module) -> list[str]:
    return [name for name, _ in model.named_modules() if name]


def _layer_not_found(model: nn.Module, layer: str) -> ValueError:
    names = _module_names(model)
    near = difflib.get_close_matches(layer, names + list(SPECIAL_LAYERS), n=5, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(n) for n in near)}?" if near else ""
    shown = ", ".join(repr(n) for n in names[:30]) + (", ..." if len(names) > 30 else "")
    return ValueError(
        f"layer {layer!r} is not a submodule of this {type(model).__name__}.{hint} "
        f"Submodule names: {shown or '(none)'}; or 'logits', 'probabilities', or None for the "
        "last hidden layer."
    )


def resolve(model: nn.Module, layer: int | str | None = None) -> Endpoint:
    """Resolve ``layer`` to an :class:`Endpoint` (depth: see :func:`inspect_endpoint`)."""
    leaves = sequential_leaves(model)
    if layer is None:
        if leaves is None:
            if model not in _warned_models:
                _warned_models.add(model)
                warnings.warn(
                    f"cannot infer the last hidden layer of {type(model).__name__} (not a plain "
                    "nn.Sequential): using layer='logits'. Pass layer='<submodule name>' to read "
                    "a hidden layer, as the paper does.",
                    UserWarning,
                    stacklevel=3,
                )
            return _logits(model, leaves)
        n_hidden = sum(is_affine(m) for _, m in leaves) - 1
        if n_hidden < 1:
            if model not in _warned_models:
                _warned_models.add(model)
                warnings.warn(
                    "the model has no hidden layer (fewer than two affine layers): using "
                    "layer='logits'.",
                    UserWarning,
                    stacklevel=3,
                )
            return _logits(model, leaves)
        return _hidden(leaves, n_hidden)
    if isinstance(layer, bool):
        raise TypeError("layer must be None, an int or a str, not a bool")
    if isinstance(layer, int):
        if leaves is None:
            names = ", ".join(repr(n) for n in _module_names(model)[:10])
            raise ValueError(
                f"an integer layer needs a plain nn.Sequential model, not {type(model).__name__}: "
                f"name a submodule instead (e.g. one of {names}) or use 'logits'"
            )
        n_hidden = sum(is_affine(m) for _, m in leaves) - 1
        index = layer + n_hidden + 1 if layer < 0 else layer
        if not 1 <= index <= n_hidden:
            raise ValueError(
                f"layer={layer} is out of range: this network has {n_hidden} hidden layer(s), "
                f"numbered 1..{n_hidden} (or -{n_hidden}..-1 from the end); use 'logits' for "
                "the output"
            )
        return _hidden(leaves, index)
    if not isinstance(layer, str):
        raise TypeError(f"layer must be None, an int or a str, not {type(layer).__name__}")
    if layer == "logits" or layer == "":
        return _logits(model, leaves)
    if layer == "probabilities":
        endpoint = _logits(model, leaves)
        chain = endpoint.chain
        return Endpoint(
            "probabilities",
            "probabilities (softmax of the output)",
            None,
            chain=None if chain is None else [*chain, Stage("softmax")],
            chain_end=0 if chain is None else len(chain) + 1,
        )
    try:
        model.get_submodule(layer)
    except AttributeError:
        raise _layer_not_found(model, layer) from None
    endpoint = Endpoint("module", f"module {layer!r}", layer)
    if leaves is not None:
        position = _leaf_position(leaves, layer)
        stages = _chain_stages(leaves)
        end = len(_chain_stages(leaves[: position + 1]) or []) if position is not None else 0
        if stages is not None and end > 0:
            endpoint.chain, endpoint.chain_end = stages, end
    return endpoint


def _leaf_position(leaves: list[tuple[str, nn.Module]], name: str) -> int | None:
    """Index of the last leaf at or inside ``name`` (a leaf or a nested Sequential)."""
    positions = [i for i, (n, _) in enumerate(leaves) if n == name or n.startswith(name + ".")]
    return positions[-1] if positions else None


def _logits(model: nn.Module, leaves: list[tuple[str, nn.Module]] | None) -> Endpoint:
    stages = None if leaves is None else _chain_stages(leaves)
    return Endpoint(
        "logits",
        "logits (the model's output)",
        None,
        chain=stages,
        chain_end=0 if stages is None else len(stages),
    )


def _hidden(leaves: list[tuple[str, nn.Module]], index: int) -> Endpoint:
    affine_positions = [i for i, (_, m) in enumerate(leaves) if is_affine(m)]
    position = affine_positions[index] - 1  # the leaf that feeds affine layer index+1
    name, _module = leaves[position]
    stages = _chain_stages(leaves)
    chain_end = len(_chain_stages(leaves[: position + 1]) or []) if stages is not None else 0
    return Endpoint(
        "hidden",
        f"hidden layer {index} (module {name!r})",
        name,
        chain=stages if chain_end > 0 else None,
        chain_end=chain_end,
    )


@dataclass
class EndpointReport:
    """What one forward pass on one sample tells: depth, sizes, dependence on x."""

    affine_calls: int
    endpoint_size: int
    input_size: int
    activation_elements: int


def inspect_endpoint(model: nn.Module, endpoint: Endpoint, x1: torch.Tensor) -> EndpointReport:
    """Run the endpoint on one sample ``x1`` (shape ``(1, *input_shape)``) and inspect it.

    Counts the affine calls up to the endpoint, the per-sample activation size (for choosing batch
    sizes), and checks that the endpoint depends on x.
    """
    owner = threading.get_ident()
    count = [0, 0]  # affine calls so far, activation elements
    at_end: list[int | None] = [None]  # affine calls at the endpoint

    def on_affine(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
        if threading.get_ident() == owner:
            count[0] += 1

    counting = [True]  # activation sizes are read in the first pass only

    def on_any(_m: nn.Module, _i: object, out: object) -> None:
        if threading.get_ident() == owner and counting[0] and isinstance(out, torch.Tensor):
            count[1] += out.numel()

    def on_endpoint(_m: nn.Module, _i: object, out: object) -> None:
        if threading.get_ident() == owner and at_end[0] is None:
            at_end[0] = count[0]

    target = None if endpoint.module_name is None else model.get_submodule(endpoint.module_name)
    handles = []
    for _name, m in model.named_modules():
        if is_affine(m):
            handles.append(m.register_forward_hook(on_affine))
        if not list(m.children()):
            handles.append(m.register_forward_hook(on_any))
    if target is not None:
        handles.append(target.register_forward_hook(on_endpoint))
    x1 = x1.detach().clone().requires_grad_(True)
    try:
        with torch.enable_grad():
            if target is not None:
                model(x1)  # full pass: counts every affine call, records the endpoint's
                count_at_end = at_end[0]
                counting[0] = False
                y = endpoint.function(model)(x1)
            else:
                y = endpoint.function(model)(x1)
                count_at_end = count[0]
            if not torch.is_floating_point(y):
                raise TypeError(f"the endpoint {endpoint.description} is not floating point")
            grad = None
            if y.requires_grad:
                (grad,) = torch.autograd.grad(y.sum(), x1, allow_unused=True)
    finally:
        for h in handles:
            h.remove()
    if grad is None:
        raise ValueError(
            f"the endpoint {endpoint.description} does not depend on the input x (it is "
            "constant or detached from it), so it has no Jacobian: choose a layer computed from x"
        )
    return EndpointReport(
        affine_calls=int(count_at_end or 0),
        endpoint_size=y.shape[1],
        input_size=x1[0].numel(),
        activation_elements=int(count[1]),
    )
