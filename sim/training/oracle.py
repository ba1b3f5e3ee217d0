"""The gradient oracle: every distinct part gradient of an iteration, computed once.

An honest gradient is a function of (model version, data part). The oracle holds the
model's parameters as one flat vector ``theta`` (d,), the iteration's data parts
``(P, m, features)``, and computes on demand:

- ``part(p)``: one part's gradient (cached);
- ``all_parts()``: all P of them in one (P, d) buffer;
- ``combine(c)``: ``sum_p c[p] g_p`` — the honest sum that DRACO's decoders return
  costs one plain training step;
- ``project(f)``: ``g_p . f`` for every part with one forward-mode pass (no gradients).

For an MLP (see :mod:`sim.training.layerwise`) one forward and one backward to the
layer outputs per iteration serve all of these: a part then costs ``1/P`` of a step's
weight-gradient products, and ``combine`` the products of one step. Other models use
autograd: ``combine`` by one backward, a part by its own forward and backward, and
``all_parts`` by one forward and one backward to the layer outputs followed by per-part
products (:mod:`sim.training.partgrads`: linear, convolution and norm layers), or by
``vmap(grad)`` for layers those products do not cover (said once in the log).

With worker momentum (``worker_momentum`` > 0, see :mod:`sim.training.optimizer`)
every symbolic message refers to the parts' momenta ``M_p`` instead of their
gradients: each iteration forms every part's gradient once, updates ``M``, and all of
the above read ``M``.

In ``batched`` mode every part comes from the single ``all_parts()`` call, so the
bits a rule sees do not depend on which part an adversary happened to look at.
In ``reference`` mode nothing is shared: :meth:`compute` recomputes a message from
scratch for every worker that asks — the naive simulator, kept to check the fast one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, grad, jvp, vmap
from torch.nn import functional as F

from sim.messages import Message, PartSum
from sim.training import layerwise, partgrads
from sim.training.optimizer import Momenta

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 2**20  # temporaries per chunk of parts in all_parts()
EVAL_CHUNK = 1000  # test samples per forward pass when evaluating a model that is not an MLP


class GradientOracle:
    def __init__(
        self,
        model: nn.Module,
        batched: bool,
        reference: bool = False,
        worker_momentum: float = 0.0,
    ) -> None:
        self.model = model
        self.batched = batched and not reference
        self.reference = reference
        params = list(model.parameters())
        self.names = [name for name, _ in model.named_parameters()]
        self.theta = torch.cat([p.detach().reshape(-1) for p in params])  # (d,)
        self.shapes = [p.shape for p in params]
        self.sizes = [p.numel() for p in params]
        offset = 0
        for p in params:  # parameters become views of theta: one vector to update and hash
            p.data = self.theta[offset : offset + p.numel()].view_as(p)
            offset += p.numel()
        self.params = params
        self.d = int(self.theta.numel())
        slots = layerwise.linear_slots(model, params)
        self.mlp = slots is not None
        self.slots = None if reference else slots
        self.engine: partgrads.PartGrads | None = None
        if not reference and self.slots is None:
            found, why = partgrads.layers(model, params)
            if why is None:
                self.engine = partgrads.PartGrads(model, found, CHUNK_BYTES)
            else:
                log.info("every part's gradient by vmap(grad), slower: %s", why)
        self.momentum = (
            Momenta(worker_momentum, self.theta.device)
            if worker_momentum > 0.0 and not reference
            else None
        )
        self.x = self.y = torch.empty(0)
        self._rows: dict[int, torch.Tensor] = {}
        self._all: torch.Tensor | None = None
        self._acts: layerwise.Deltas | None = None
        self.batch_loss: torch.Tensor | None = None

    # ------------------------------------------------------------------ per iteration

    def start(self, x_parts: torch.Tensor, y_parts: torch.Tensor) -> None:
        """New iteration: parts (P, m, *sample shape) and labels (P, m) at the current
        theta. With worker momentum, every part's gradient is formed now and ``M`` moves."""
        self.x, self.y = x_parts, y_parts
        self._rows, self._all, self._acts, self.batch_loss = {}, None, None, None
        if self.momentum is not None:
            self._all = self.momentum.update("parts", self._part_gradients())
            self._acts = None  # the MLP's activations are not needed any more

    def _batch(self) -> torch.Tensor:
        """The iteration's samples as one batch (P*m, *sample shape)."""
        return self.x.flatten(0, 1)

    @property
    def symbolic_all(self) -> bool:
        """Every symbolic message is read from one (P, d) matrix: ``all_parts()``."""
        return self.batched or self.momentum is not None

    @property
    def parts(self) -> int:
        return int(self.x.shape[0])

    def _flat_grad(self, loss: torch.Tensor, keep: bool = False) -> torch.Tensor:
        grads = torch.autograd.grad(loss, self.params, retain_graph=keep)
        return torch.cat([g.reshape(-1) for g in grads])

    def _views(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named parameter tensors that are views of one flat (d,) vector."""
        views = (v.view(s) for v, s in zip(flat.split(self.sizes), self.shapes, strict=True))
        return dict(zip(self.names, views, strict=True))

    def _part_losses(self, out: torch.Tensor) -> torch.Tensor:
        """(P,) mean loss of each part from the outputs (P*m, classes) of the whole batch."""
        P, m = self.y.shape
        return F.cross_entropy(out, self.y.reshape(-1), reduction="none").reshape(P, m).mean(1)

    def _fresh(self, p: int) -> torch.Tensor:
        """Part ``p``'s gradient by its own forward and backward (no cache, no sharing)."""
        return self._flat_grad(F.cross_entropy(self.model(self.x[p]), self.y[p]))

    def _deltas(self) -> layerwise.Deltas:
        """This iteration's forward and backward to the layer outputs (MLPs), once."""
        if self._acts is None:
            P, m = self.y.shape
            assert isinstance(self.model, nn.Sequential)
            self._acts = layerwise.backward_to_outputs(
                self.model, self.x.reshape(P * m, -1), self.y.reshape(-1)
            )
            if self.batch_loss is None:
                self.batch_loss = self._acts.losses.mean()
        return self._acts

    def _sample_weights(self, coeffs: torch.Tensor) -> torch.Tensor | None:
        """(P*m,) per-sample weights ``coeffs[p] * P`` relative to the batch mean (a part's
        loss is its own mean); None when that is 1 everywhere (the plain mean gradient)."""
        P, m = self.y.shape
        if bool((coeffs == 1.0 / P).all()):  # host-side check of the (P,) coefficients
            return None
        c = coeffs.to(self.theta.device, self.theta.dtype, non_blocking=True)
        return (c * P).repeat_interleave(m)

    def part(self, p: int) -> torch.Tensor:
        if self.symbolic_all:
            return self.all_parts()[p]
        if p not in self._rows:
            if self.slots is None:
                self._rows[p] = self._fresh(p)
            else:
                P, m = self.y.shape
                w = self.theta.new_full((m,), float(P))
                out = self.theta.new_empty(self.d)
                rows = slice(p * m, (p + 1) * m)
                self._rows[p] = layerwise.weighted_grad(self.slots, self._deltas(), w, out, rows)
        return self._rows[p]

    def all_parts(self) -> torch.Tensor:
        """(P, d): every part's gradient (with worker momentum: every part's momentum),
        written chunk by chunk into one buffer."""
        if self._all is None:
            self._all = self._part_gradients()
        return self._all

    def _part_gradients(self) -> torch.Tensor:
        """(P, d): every part's gradient at the current theta, computed now."""
        P, m = self.y.shape
        if self.slots is not None:
            largest = max(s.layer.in_features * s.layer.out_features for s in self.slots)
            chunk = max(1, CHUNK_BYTES // (largest * self.theta.element_size()))
            out = self.theta.new_empty(P, self.d)
            return layerwise.per_part_grads(self.slots, self._deltas(), P, P, out, chunk)
        if self.engine is not None:
            found = self._layer_products()
            if found is not None:
                return found
        return self._vmap_parts()

    def _layer_products(self) -> torch.Tensor | None:
        """(P, d) by one forward, one backward and per-layer products; None (and the
        vmap path from now on) if the model does something they cannot follow."""
        assert self.engine is not None
        P = self.parts
        try:
            losses = self.engine.backward(self._batch(), self.y.reshape(-1), P)
            out = self.theta.new_empty(P, self.d)
            self.engine.write(out, P)
        except partgrads.Unsupported as exc:
            log.info("every part's gradient by vmap(grad) from now on, slower: %s", exc)
            self.engine = None
            return None
        if self.batch_loss is None:
            self.batch_loss = losses.mean()
        return out

    def _vmap_parts(self) -> torch.Tensor:
        """(P, d) by ``vmap(grad)`` over chunks of parts (any model)."""
        params = {n: p.detach() for n, p in zip(self.names, self.params, strict=True)}

        def part_loss(
            prm: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor]:
            loss = F.cross_entropy(functional_call(self.model, prm, (x,)), y)
            return loss, loss.detach()

        per_part = vmap(grad(part_loss, has_aux=True), in_dims=(None, 0, 0))
        P = self.parts
        chunk = max(1, CHUNK_BYTES // (self.d * self.theta.element_size()))
        out = self.theta.new_empty(P, self.d)
        losses: list[torch.Tensor] = []
        for s in range(0, P, chunk):
            grads, loss = per_part(params, self.x[s : s + chunk], self.y[s : s + chunk])
            for dst, name in zip(
                out[s : s + chunk].split(self.sizes, dim=1), self.names, strict=True
            ):
                dst.copy_(grads[name].reshape(dst.shape))
            del grads
            losses.append(loss)
        if self.batch_loss is None:
            self.batch_loss = torch.cat(losses).mean()
        return out

    def combine(self, coeffs: torch.Tensor) -> torch.Tensor:
        """``sum_p coeffs[p] * g_p`` (coeffs real or complex, shape (P,)): one backward
        (with worker momentum: ``sum_p coeffs[p] * M_p``, one product)."""
        if self.momentum is not None:
            moments = self.all_parts()
            weigh = lambda c: c.to(moments.device, moments.dtype) @ moments  # noqa: E731
            if not coeffs.is_complex():
                return weigh(coeffs)
            return torch.complex(weigh(coeffs.real).double(), weigh(coeffs.imag).double())
        if self.slots is not None:
            acts, new = self._deltas(), self.theta.new_empty
            if not coeffs.is_complex():
                return layerwise.weighted_grad(
                    self.slots, acts, self._sample_weights(coeffs), new(self.d)
                )
            re, im = [
                layerwise.weighted_grad(self.slots, acts, self._sample_weights(c), new(self.d))
                for c in (coeffs.real, coeffs.imag)
            ]
            return torch.complex(re.double(), im.double())
        part_loss = self._part_losses(self.model(self._batch()))  # (P,)
        if self.batch_loss is None:
            self.batch_loss = part_loss.detach().mean()
        return self._weighted_grad(part_loss, coeffs.to(part_loss.device, non_blocking=True))

    def _weighted_grad(self, part_loss: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Gradient of ``sum_p c[p] * part_loss[p]`` (complex ``c``: real and imaginary
        parts by two backward passes through one graph)."""
        if not c.is_complex():
            return self._flat_grad((part_loss * c.to(part_loss.dtype)).sum())
        re = self._flat_grad((part_loss * c.real.to(part_loss.dtype)).sum(), keep=True)
        im = self._flat_grad((part_loss * c.imag.to(part_loss.dtype)).sum())
        return torch.complex(re.double(), im.double())

    def project(self, f: torch.Tensor) -> torch.Tensor:
        """(P,) ``g_p . f`` for all parts: the directional derivatives of the P part
        losses along ``f``, by one forward-mode (jvp) pass over the batch; no gradient
        is formed. Equal to ``all_parts() @ f`` up to float rounding; returned in
        ``f``'s dtype.
        """
        if self.reference:
            return torch.stack([self._fresh(p).to(f.dtype) @ f for p in range(self.parts)])
        if self.momentum is not None:
            return self.all_parts().to(f.dtype) @ f.to(self.theta.device)
        x = self._batch()

        def part_losses(theta: torch.Tensor) -> torch.Tensor:
            return self._part_losses(functional_call(self.model, self._views(theta), (x,)))

        tangent = f.to(self.theta.device, self.theta.dtype)
        dots = jvp(part_losses, (self.theta.detach(),), (tangent,))[1]  # (P,)
        return dots.to(f.dtype)

    def unit(self, m: PartSum) -> int | None:
        """The part ``p`` when ``m`` is exactly ``g_p``, else None."""
        if m.unit is not None:
            return m.unit
        nz = torch.nonzero(m.coeffs).flatten()
        if len(nz) == 1 and not m.coeffs.is_complex() and float(m.coeffs[nz[0]]) == 1.0:
            return int(nz[0])
        return None

    def materialize(self, m: Message) -> torch.Tensor:
        if not isinstance(m, PartSum):
            return m
        p = self.unit(m)
        if p is not None:
            return self.part(p)
        if self.symbolic_all and not m.coeffs.is_complex():
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
        x, y = self.x[used], classes - 1 - self.y[used]  # (u, m, *sample shape), (u, m)
        u, mm = y.shape
        per_sample = F.cross_entropy(
            self.model(x.flatten(0, 1)), y.reshape(-1), reduction="none"
        ).reshape(u, mm)
        part_loss = per_sample.mean(1)  # (u,)
        return self._weighted_grad(part_loss, coeffs.to(part_loss.device)[used])

    def compute(self, m: Message) -> torch.Tensor:
        """What one worker computes by itself: ``m`` from fresh part gradients."""
        if not isinstance(m, PartSum):
            return m
        p = self.unit(m)
        if p is not None:
            return self._fresh(p)
        out: torch.Tensor | None = None
        for q in torch.nonzero(m.coeffs).flatten().tolist():
            term = m.coeffs[q].item() * self._fresh(q).to(m.coeffs.dtype)
            out = term if out is None else out + term
        return out if out is not None else self.theta.new_zeros(self.d).to(m.coeffs.dtype)

    def stack(self, messages: Sequence[Message]) -> torch.Tensor:
        """(k, d) rows of ``messages``; in batched mode, ``all_parts()`` itself (no copy)
        when the messages are exactly ``g_0 .. g_{P-1}`` in order."""
        if (
            self.symbolic_all
            and len(messages) == self.parts
            and all(isinstance(m, PartSum) and self.unit(m) == p for p, m in enumerate(messages))
        ):
            return self.all_parts()
        return torch.stack([self.materialize(m) for m in messages])

    def loss_tensor(self) -> torch.Tensor:
        """Training loss on this iteration's batch (a 0-d tensor; no device sync)."""
        if self.batch_loss is None:
            with torch.no_grad():
                out = self.model(self._batch())
                self.batch_loss = F.cross_entropy(out, self.y.reshape(-1))
        return self.batch_loss

    def loss(self) -> float:
        return float(self.loss_tensor())

    # ------------------------------------------------------------------ model state

    def digest(self) -> str:
        return hashlib.sha256(self.theta.detach().cpu().numpy().tobytes()).hexdigest()

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """(mean loss, accuracy) on ``x`` (N, *sample shape); an MLP in one pass, other
        models ``EVAL_CHUNK`` samples at a time (bounded memory for large networks)."""
        if self.mlp or len(y) <= EVAL_CHUNK:
            out = self.model(x)
            loss = F.cross_entropy(out, y)
            accuracy = (out.argmax(1) == y).float().mean()
        else:
            sums = x.new_zeros(2, dtype=torch.float64)
            for a in range(0, len(y), EVAL_CHUNK):
                out, yy = self.model(x[a : a + EVAL_CHUNK]), y[a : a + EVAL_CHUNK]
                sums[0] += F.cross_entropy(out, yy, reduction="sum").double()
                sums[1] += (out.argmax(1) == yy).sum().double()
            loss, accuracy = sums / len(y)
        loss_f, acc_f = torch.stack([loss.double(), accuracy.double()]).tolist()
        return loss_f, acc_f
