"""Where the network is read: the endpoint of the Jacobian and the depth that divides log Λ₁.

The endpoint is named by ``layer``:

* ``None``: the paper's choice, the last hidden layer: the representation that enters the last
  affine layer. For an ``nn.Sequential`` whose affine layers (``Linear``, ``Conv*``) are all its
  own leaves this is the output of the leaf before the last affine layer ("hidden layer L").
  For any other module it is the input of the last affine call the forward pass makes, found by
  forward hooks on the first sample evaluated (:mod:`.reading` says what counts as affine): the
  pooled features entering a ResNet's ``fc``, the input of a 1×1 convolution head, the features
  entering a transformer's classifier. :attr:`Endpoint.description` then names that module,
  e.g. ``"input of fc (last hidden layer)"``; a product written in ``forward`` (``h @ W``,
  ``F.linear(h, W, b)``: see :mod:`.reading`) is read there too, as ``"input of @ (affine call
  3, last hidden layer)"``. Where no such input can be read (no affine call, a single one, or
  the last one inside attention) ``"logits"`` is used with a warning, given once per model; a
  product whose input does not lead with the batch axis (``W @ h.T``) is an error.
* an ``int`` ℓ: after the ℓ-th hidden layer's activation (``nn.Sequential`` only; ``-1`` is the
  last hidden layer).
* a ``str``: a submodule name as listed by ``model.named_modules()``, or ``"logits"`` (the model's
  output) or ``"probabilities"`` (softmax over dim 1 of the output; sigmoid for one output).

A module called more than once (one activation instance reused) is read at its first call; in
an ``nn.Sequential`` that lists one instance at several places, at the call its place names.

The default depth is the number of affine calls made from the input to the endpoint: ℓ for hidden
layer ℓ, L + 1 for the logits of an L-hidden-layer network (see :mod:`.probing`).
"""

from __future__ import annotations

import difflib
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .modules import is_affine, sequential_leaves
from .reading import read_call, read_input, read_module

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
_origins: weakref.WeakKeyDictionary[nn.Module, nn.Module] = weakref.WeakKeyDictionary()


def mark_warned(model: nn.Module, origin: nn.Module | None = None) -> None:
    """Give no endpoint warning for ``model`` again; with ``origin`` (``model`` is a snapshot of
    it), warn about ``model`` only where ``origin`` was not warned about, and count a warning
    about either as one about both."""
    if origin is None:
        _warned_models.add(model)
    else:
        _origins[model] = origin


def warn_once(model: nn.Module, message: str, stacklevel: int = 2) -> None:
    """A ``UserWarning`` about ``model``'s endpoint, once per model (see :func:`mark_warned`)."""
    key = _origins.get(model, model)
    if key in _warned_models:
        return
    _warned_models.add(key)
    warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)


@dataclass(frozen=True)
class Stage:
    """One step of a fast-path chain: ``linear`` (W, b), ``elementwise`` (module) or ``softmax``."""

    kind: str
    module: nn.Module | None = None


LAST_HIDDEN_PENDING = "the input of the last affine layer (found on the first evaluation)"


@dataclass
class Endpoint:
    """A resolved endpoint: what is read and how to compute it (its depth is counted, and a
    general module's last hidden layer found, on a first sample by
    :func:`~ftle_widget.maths.probing.inspect_endpoint`).

    Attributes
    ----------
    kind : "hidden", "module", "affine_input", "logits" or "probabilities".
    description : human-readable name, e.g. ``"hidden layer 8 (module '15')"`` or
        ``"input of fc (last hidden layer)"``.
    module_name : the submodule whose output (``"affine_input"``: input) is read; ``None`` for
        logits and probabilities, a functional affine call, and an endpoint not yet found.
    call : which call of the module (1 for its first) is read.
    position : for the input of a functional affine call (``x @ W``, ``F.linear``), the call's
        index among the forward pass's affine calls (:mod:`.reading`); else ``None``.
    chain : for plain ``nn.Sequential`` MLPs, the stages of the whole model with
        ``chain_end`` the number of stages up to the endpoint; else ``None``.
    """

    kind: str
    description: str
    module_name: str | None
    chain: list[Stage] | None = None
    chain_end: int = 0
    call: int = 1
    position: int | None = None

    @property
    def pending(self) -> bool:
        """A general module's last hidden layer, not yet found on a sample."""
        return self.kind == "affine_input" and self.module_name is None and self.position is None

    def function(self, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """The map from a batch ``(B, *input_shape)`` to the flattened endpoint ``(B, n)``.

        ``model`` is the module to run (the user's model or a converted copy of it with the same
        structure); the endpoint module is looked up in it by name.
        """
        if self.kind == "logits":
            return lambda x: _flat(model(x))
        if self.kind == "probabilities":
            return lambda x: _flat(probabilities(model(x)))
        if self.pending:
            raise RuntimeError("the last hidden layer is found on the first evaluation")
        position = self.position
        if position is not None:
            return lambda x: _flat(read_call(model, x, position))
        name, call = self.module_name or "", self.call
        module = model.get_submodule(name)
        if self.kind == "affine_input":
            return lambda x: _flat(read_input(model, module, x, name, call))
        return lambda x: _flat(read_module(model, module, x, name, call))

    def read_logits(self) -> None:
        """Read the logits instead (where no last hidden layer can be found)."""
        self.kind, self.module_name, self.position = "logits", None, None
        self.description = "logits (the model's output)"


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
    return [name for name, _ in model.named_modules(remove_duplicate=False) if name]


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
    """Resolve ``layer`` to an :class:`Endpoint` (a general module's last hidden layer and the
    depth are found on a first sample: see :func:`~ftle_widget.maths.probing.inspect_endpoint`).
    """
    leaves = sequential_leaves(model)
    if layer is None:
        if leaves is None or _affine_inside_leaves(model, leaves):
            return Endpoint("affine_input", LAST_HIDDEN_PENDING, None)
        n_hidden = sum(is_affine(m) for _, m in leaves) - 1
        if n_hidden < 1:
            warn_once(
                model,
                "the model has no hidden layer (fewer than two affine layers): using "
                "layer='logits'.",
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
        if position is not None and leaves[position][0] == layer:
            endpoint.call = _call_at(leaves, position)
        stages = _chain_stages(leaves)
        end = len(_chain_stages(leaves[: position + 1]) or []) if position is not None else 0
        if stages is not None and end > 0:
            endpoint.chain, endpoint.chain_end = stages, end
    return endpoint


def _affine_inside_leaves(model: nn.Module, leaves: list[tuple[str, nn.Module]]) -> bool:
    """Whether some affine layer of a Sequential sits inside a leaf (a block, a custom head), so
    that its leaves do not tell where the last affine layer is."""
    inside = {id(m) for m in model.modules() if is_affine(m)}
    return inside != {id(m) for _, m in leaves if is_affine(m)}


def _call_at(leaves: list[tuple[str, nn.Module]], position: int) -> int:
    """Which call of its module the leaf at ``position`` is (one instance may sit at several)."""
    return sum(m is leaves[position][1] for _, m in leaves[: position + 1])


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
        call=_call_at(leaves, position),
    )
