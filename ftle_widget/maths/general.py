"""J of any module: JVPs through ``torch.func`` (``vmap`` of ``jvp``), VJPs as backward passes on
one autograd graph of the batch. The samples of a batch must be independent (true in eval mode
for the usual layers)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import torch
from torch import nn

from .jacobians import Jacobian, jvp

# torch's forward-AD levels are process-wide: two threads in torch.func.jvp at once break them
_FORWARD_AD = threading.Lock()


def graph_vjps(device: torch.device) -> bool:
    """Whether VJPs on ``device`` are backward passes on one graph (the CPU) or ``vmap``ped."""
    return device.type == "cpu"


class FuncJacobian(Jacobian):
    """J of any module through autograd and ``torch.func``; the batch's samples must be
    independent."""

    def __init__(
        self,
        function: Callable[[torch.Tensor], torch.Tensor],
        x: torch.Tensor,
        *,
        want_output: bool = False,
        model: nn.Module | None = None,
        n: int | None = None,
    ):
        self.function = function
        self.x = x
        self.batch = x.shape[0]
        self.d = x[0].numel()
        self.m = self.d
        self.peel = None
        self._graph: tuple[torch.Tensor, torch.Tensor] | None = None
        self._vjp_fn: Callable[..., Any] | None = None
        self._model = model
        self.endpoint = None
        self.output = None
        self._n = n
        if want_output and model is not None:
            self.output = model(x).reshape(self.batch, -1)

    def _ensure_graph(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, endpoint) with the endpoint's autograd graph, made once and kept for all VJPs."""
        if self._graph is None:
            with torch.enable_grad():
                x = self.x.detach().requires_grad_(True)
                y = self.function(x)
            self._graph = (x, y)
            self.endpoint = y.detach()
        return self._graph

    def ensure_endpoint(self) -> torch.Tensor:
        if self.endpoint is None:
            self.endpoint = self.function(self.x)
        return self.endpoint

    @property
    def n(self) -> int:  # type: ignore[override]
        """The endpoint size: given, or read from a forward pass."""
        return self._n if self._n is not None else self.ensure_endpoint().shape[1]

    def jvp_z(self, v: torch.Tensor) -> torch.Tensor:
        shape = self.x.shape
        tangents = v.transpose(0, 1).reshape(v.shape[1], *shape)

        def push(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return jvp(self.function, (self.x,), (t,))

        # out_dims None marks an unbatched output; torch's out_dims_t leaves None out of tuples
        with _FORWARD_AD:
            out, pushed = torch.func.vmap(push, out_dims=(None, 0))(tangents)  # type: ignore[arg-type]
        if self.endpoint is None:
            self.endpoint = out
        return pushed.transpose(0, 1)

    def vjp_z(self, u: torch.Tensor) -> torch.Tensor:
        """On the CPU one backward pass per vector on one shared forward graph (measured faster
        than ``vmap`` over the VJP, whose batching rules copy every convolution's gradient);
        elsewhere ``vmap`` over ``torch.func.vjp`` (fewer, larger kernels)."""
        if not graph_vjps(self.x.device):
            if self._vjp_fn is None:  # (torch.func.vjp's annotation adds the has_aux triple)
                pair = torch.func.vjp(self.function, self.x)
                self.endpoint, self._vjp_fn = cast("tuple[torch.Tensor, Callable[..., Any]]", pair)
            vjp_fn = self._vjp_fn
            rows = torch.func.vmap(lambda c: vjp_fn(c)[0])(u.transpose(0, 1).contiguous())
            return rows.reshape(u.shape[1], self.batch, self.d).transpose(0, 1)
        x, y = self._ensure_graph()
        rows = torch.zeros((self.batch, u.shape[1], self.d), dtype=u.dtype, device=u.device)
        if not y.requires_grad:  # the endpoint does not depend on x here
            return rows
        for i in range(u.shape[1]):
            (grad,) = torch.autograd.grad(y, x, u[:, i], retain_graph=True, allow_unused=True)
            if grad is not None:
                rows[:, i] = grad.reshape(self.batch, self.d)
        return rows

    def select(self, index: torch.Tensor) -> FuncJacobian:
        sub = FuncJacobian(self.function, self.x[index].clone(), model=self._model, n=self._n)
        if self.output is not None:
            sub.output = self.output[index]
        return sub
