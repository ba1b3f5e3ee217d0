"""The PS's update rule and the workers' momentum.

**At the PS** (``train.lr``, ``train.momentum``, ``train.weight_decay``): the update
``u`` the rule returns is applied as PyTorch's SGD applies a gradient (no dampening, no
Nesterov)::

    g = u + weight_decay * theta
    b = g                          (first step)
    b = momentum * b + g           (later steps)
    theta = theta - lr * b

An iteration without an update (nothing decoded, or too few candidates for the rule)
takes no step and leaves ``b`` as it was.

**At the workers** (``train.worker_momentum`` = beta): each worker sends its momentum
``m = beta * m + (1 - beta) * g`` (starting from ``m = 0``) instead of its gradient
``g``, as in Karimireddy et al. (ICML 2021) and Allouah et al. (AISTATS 2023). The
recursion is linear, so a worker whose message is ``sum_p c_p g_p`` sends
``sum_p c_p M_p`` with ``M_p`` the momentum of part ``p``'s gradients: the members of a
repetition group hold identical momenta, and DRACO's guarantee stays exact.
"""

from __future__ import annotations

from typing import Any

import torch


class ServerSGD:
    """``theta -= lr * b`` with heavy-ball momentum ``b`` and L2 weight decay."""

    def __init__(
        self,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        device: torch.device | None = None,
    ) -> None:
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.device = device or torch.device("cpu")
        self.buffer: torch.Tensor | None = None

    def step(self, theta: torch.Tensor, update: torch.Tensor) -> None:
        g = update.to(theta.dtype)
        if self.momentum == 0.0 and self.weight_decay == 0.0:
            theta.sub_(g, alpha=self.lr)  # plain SGD
            return
        if self.weight_decay != 0.0:
            g = g.add(theta, alpha=self.weight_decay)
        if self.momentum != 0.0:
            if self.buffer is None:
                self.buffer = torch.clone(g).detach()
            else:
                self.buffer.mul_(self.momentum).add_(g)
            g = self.buffer
        theta.add_(g, alpha=-self.lr)

    def state_dict(self) -> dict[str, Any]:
        return {"buffer": self.buffer}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        buf = state["buffer"]
        self.buffer = None if buf is None else buf.to(self.device)


class Momenta:
    """Named momentum vectors ``m = beta * m + (1 - beta) * g``, each from ``m = 0``: the
    parts' momenta ``(P, d)`` of the fast oracle, a worker's own in the reference
    simulator, a label-flipping worker's momentum of its flipped-label gradients."""

    def __init__(self, beta: float, device: torch.device) -> None:
        self.beta, self.device = beta, device
        self.values: dict[str, torch.Tensor] = {}

    def update(self, key: str, g: torch.Tensor) -> torch.Tensor:
        """The new momentum under ``key`` after gradient ``g`` (a new tensor: earlier
        values handed out stay as they were)."""
        old = self.values.get(key)
        if old is None:
            new = g * (1.0 - self.beta)
        else:
            new = torch.add(old * self.beta, g, alpha=1.0 - self.beta)
        self.values[key] = new
        return new

    def state_dict(self) -> dict[str, Any]:
        return {"values": dict(self.values)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.values = {k: v.to(self.device) for k, v in state["values"].items()}
