"""The gradient oracle: every distinct part gradient of an iteration, computed once.

An honest gradient is a function of (model version, data part). The oracle holds the
model's parameters as one flat vector ``theta`` (d,), the iteration's data parts
``(P, m, features)``, and computes on demand:

- ``part(p)``: one part's gradient (cached);
- ``all_parts()``: all P of them in one batched ``vmap(grad)`` call;
- ``combine(c)``: ``sum_p c[p] g_p`` with one forward and one backward over the batch —
  the honest sum that DRACO's decoders return costs one plain training step;
- ``project(f)``: ``g_p · f`` for every part (what the cyclic decoder looks at).

In ``batched`` mode every part comes from the single ``all_parts()`` call, so the
bits a rule sees do not depend on which part an adversary happened to look at.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.nn import functional as F

from sim.messages import Message, PartSum


class GradientOracle:
    def __init__(self, model: nn.Module, batched: bool) -> None:
        self.model = model
        self.batched = batched
        params = list(model.parameters())
        self.names = [name for name, _ in model.named_parameters()]
        self.theta = torch.cat([p.detach().reshape(-1) for p in params])  # (d,)
        offset = 0
        for p in params:  # parameters become views of theta: one vector to update and hash
            p.data = self.theta[offset : offset + p.numel()].view_as(p)
            offset += p.numel()
        self.params = params
        self.d = int(self.theta.numel())
        self.x = self.y = torch.empty(0)
        self._rows: dict[int, torch.Tensor] = {}
        self._all: torch.Tensor | None = None
        self.batch_loss: torch.Tensor | None = None

    # ------------------------------------------------------------------ per iteration

    def start(self, x_parts: torch.Tensor, y_parts: torch.Tensor) -> None:
        """New iteration: parts (P, m, features) and labels (P, m) at the current theta."""
        self.x, self.y = x_parts, y_parts
        self._rows, self._all, self.batch_loss = {}, None, None

    @property
    def parts(self) -> int:
        return int(self.x.shape[0])

    def _flat_grad(self, loss: torch.Tensor) -> torch.Tensor:
        grads = torch.autograd.grad(loss, self.params)
        return torch.cat([g.reshape(-1) for g in grads])

    def part(self, p: int) -> torch.Tensor:
        if self.batched:
            return self.all_parts()[p]
        if p not in self._rows:
            loss = F.cross_entropy(self.model(self.x[p]), self.y[p])
            self._rows[p] = self._flat_grad(loss)
        return self._rows[p]

    def all_parts(self) -> torch.Tensor:
        if self._all is None:
            params = {n: p.detach() for n, p in zip(self.names, self.params, strict=True)}

            def part_loss(
                prm: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor]:
                loss = F.cross_entropy(functional_call(self.model, prm, (x,)), y)
                return loss, loss.detach()

            grads, losses = vmap(grad(part_loss, has_aux=True), in_dims=(None, 0, 0))(
                params, self.x, self.y
            )
            P = self.parts
            self._all = torch.cat([grads[n].reshape(P, -1) for n in self.names], dim=1)
            if self.batch_loss is None:
                self.batch_loss = losses.mean()
        return self._all

    def project(self, f: torch.Tensor) -> torch.Tensor:
        """``(P,)``: every part gradient projected on ``f`` (d,), ``g_p · f``."""
        return self.all_parts() @ f

    def combine(self, coeffs: torch.Tensor) -> torch.Tensor:
        """``sum_p coeffs[p] * g_p`` (coeffs real or complex, shape (P,))."""
        P, m = self.y.shape
        per_sample = F.cross_entropy(
            self.model(self.x.reshape(P * m, -1)), self.y.reshape(-1), reduction="none"
        ).reshape(P, m)
        part_loss = per_sample.mean(1)  # (P,)
        if self.batch_loss is None:
            self.batch_loss = part_loss.detach().mean()
        c = coeffs.to(part_loss.device)
        if not c.is_complex():
            return self._flat_grad((part_loss * c.to(part_loss.dtype)).sum())
        re = self._flat_grad_keep((part_loss * c.real.to(part_loss.dtype)).sum())
        im = self._flat_grad((part_loss * c.imag.to(part_loss.dtype)).sum())
        return torch.complex(re.double(), im.double())

    def _flat_grad_keep(self, loss: torch.Tensor) -> torch.Tensor:
        grads = torch.autograd.grad(loss, self.params, retain_graph=True)
        return torch.cat([g.reshape(-1) for g in grads])

    def materialize(self, m: Message) -> torch.Tensor:
        if not isinstance(m, PartSum):
            return m
        nz = torch.nonzero(m.coeffs).flatten()
        if len(nz) == 1 and not m.coeffs.is_complex() and float(m.coeffs[nz[0]]) == 1.0:
            return self.part(int(nz[0]))
        if self.batched and not m.coeffs.is_complex():
            return m.coeffs.to(self.all_parts()) @ self.all_parts()
        return self.combine(m.coeffs)

    def flipped(self, m: Message, classes: int) -> torch.Tensor:
        """The message's part combination, with labels ``y -> classes - 1 - y`` (label flip).

        One forward and backward over the parts the message uses; the honest caches and
        the batch loss are left alone.
        """
        coeffs = m.coeffs if isinstance(m, PartSum) else None
        if coeffs is None:
            raise TypeError("only an honest (symbolic) message can be recomputed on flipped labels")
        used = torch.nonzero(coeffs).flatten().to(self.x.device)
        x, y = self.x[used], classes - 1 - self.y[used]  # (u, m, features), (u, m)
        u, mm = y.shape
        per_sample = F.cross_entropy(
            self.model(x.reshape(u * mm, -1)), y.reshape(-1), reduction="none"
        ).reshape(u, mm)
        part_loss = per_sample.mean(1)  # (u,)
        c = coeffs.to(part_loss.device)[used]
        if not c.is_complex():
            return self._flat_grad((part_loss * c.to(part_loss.dtype)).sum())
        re = self._flat_grad_keep((part_loss * c.real.to(part_loss.dtype)).sum())
        im = self._flat_grad((part_loss * c.imag.to(part_loss.dtype)).sum())
        return torch.complex(re.double(), im.double())

    def loss(self) -> float:
        if self.batch_loss is None:
            with torch.no_grad():
                P, m = self.y.shape
                out = self.model(self.x.reshape(P * m, -1))
                self.batch_loss = F.cross_entropy(out, self.y.reshape(-1))
        return float(self.batch_loss)

    # ------------------------------------------------------------------ model state

    def step(self, update: torch.Tensor, lr: float) -> None:
        self.theta.sub_(update.to(self.theta.dtype), alpha=lr)

    def digest(self) -> str:
        return hashlib.sha256(self.theta.detach().cpu().numpy().tobytes()).hexdigest()

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        out = self.model(x)
        loss = F.cross_entropy(out, y)
        accuracy = (out.argmax(1) == y).float().mean()
        return float(loss), float(accuracy)
