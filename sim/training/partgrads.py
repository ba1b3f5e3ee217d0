"""Every part's gradient from one forward and one backward, for any wiring of linear,
2-D convolution, group-norm and layer-norm layers (residual networks included).

The gradient of sample ``s``'s loss with respect to a layer's parameters depends only on
the layer's input ``h_s`` and the gradient ``delta_s`` of the loss at its output:

- linear: ``delta_s h_s^T`` (summed over any extra positions), bias ``delta_s``;
- convolution: a linear layer applied at ``L`` positions to the input patches
  ``U(h_s)`` (``L`` by ``C_in k k``, a strided view of the input): ``delta_s U(h_s)``,
  bias ``sum_L delta_s`` (for wide patches, the same sum by the convolution's own
  weight-gradient kernel, with a block's parts as groups);
- group and layer norm: ``sum delta_s * xhat_s`` (``xhat`` the normalized input,
  recomputed from ``h_s``), bias ``sum delta_s``.

One forward over the whole batch records every layer's input (a forward hook) and one
backward records every layer's output gradient (a hook on the output tensor, which sees
the gradient of that tensor even when a later in-place operation reuses it); autograd
forms no weight gradient, and the backward stops at the first layers' outputs (no
gradient with respect to the data). A part's gradient is the mean over its samples of those
products: batched matrix products written straight into the ``(P, d)`` result, in
blocks of parts (or of one part's samples) whose temporaries stay within a byte budget.

Anything else that holds parameters (batch norm, embeddings, a convolution padded other
than with zeros, a user's own parametrized module) is not handled: :func:`layers` says
which, and the oracle falls back to ``vmap(grad)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F
from torch.nn.grad import conv2d_weight


class Unsupported(Exception):
    """The model did something the per-layer products cannot follow."""


@dataclass
class Layer:
    module: nn.Module
    slots: list[tuple[str, int, int]]  # (parameter name, offset in theta, numel)
    records: list[list[torch.Tensor | int | None]] = field(default_factory=list)


def _why_not(mod: nn.Module) -> str | None:
    """None when the per-layer rule handles ``mod`` exactly, else the reason."""
    kind = type(mod)
    if kind is nn.Conv2d:
        if mod.padding_mode != "zeros":
            return f"padding_mode={mod.padding_mode}"
        if isinstance(mod.padding, str) and mod.padding != "valid":
            return f"padding='{mod.padding}'"
        return None
    if kind in (nn.Linear, nn.GroupNorm, nn.LayerNorm):
        return None
    return "no per-sample rule for this layer type"


def layers(model: nn.Module, params: list[nn.Parameter]) -> tuple[list[Layer], str | None]:
    """The model's parameter-holding layers with their offsets in the flat parameter
    vector (``params`` flattened in order), or ``([], reason)`` when one is not handled."""
    offsets: dict[int, int] = {}
    at = 0
    for p in params:
        offsets[id(p)] = at
        at += p.numel()
    found, owned = [], 0
    for name, mod in model.named_modules():
        own = list(mod.named_parameters(recurse=False))
        if not own:
            continue
        why = _why_not(mod)
        if why is not None:
            return [], f"{name or 'the model'}: {type(mod).__name__} ({why})"
        found.append(Layer(mod, [(n, offsets[id(p)], p.numel()) for n, p in own]))
        owned += len(own)
    if owned != len(params):
        return [], "parameters shared between layers"
    return found, None


# ------------------------------------------------------------------ per-layer rules
# Each takes the layer, its inputs h (n, ...) and output gradients g (n, ...) of a block
# of c equal groups of samples, and returns per group the gradient of each parameter
# (c, numel), in the layer's parameter order.

Rule = Callable[[nn.Module, torch.Tensor, torch.Tensor, int], list[torch.Tensor]]


def _linear(mod: nn.Module, h: torch.Tensor, g: torch.Tensor, c: int) -> list[torch.Tensor]:
    hh = h.reshape(c, -1, h.shape[-1])  # (c, samples x positions, in)
    gg = g.reshape(c, -1, g.shape[-1])  # (c, samples x positions, out)
    out = [torch.bmm(gg.transpose(1, 2), hh).reshape(c, -1)]
    return out if mod.bias is None else [*out, gg.sum(1)]


def patches(h: torch.Tensor, mod: nn.Conv2d) -> torch.Tensor:
    """(n, L_h, L_w, C_in, k_h, k_w): the input patch under every output position, as a
    strided view of the (zero-padded) input: no copy yet. (``F.unfold`` builds the same
    numbers, far more slowly on the CPU.)"""
    if not isinstance(mod.padding, str) and any(mod.padding):
        ph, pw = mod.padding
        h = F.pad(h, (pw, pw, ph, ph))
    n, c, height, width = h.shape
    (kh, kw), (sh, sw), (dh, dw) = mod.kernel_size, mod.stride, mod.dilation
    lh, lw = (height - dh * (kh - 1) - 1) // sh + 1, (width - dw * (kw - 1) - 1) // sw + 1
    s_n, s_c, s_h, s_w = h.stride()
    return h.as_strided(
        (n, lh, lw, c, kh, kw),
        (s_n, s_h * sh, s_w * sw, s_c, s_h * dh, s_w * dw),
        h.storage_offset(),
    )


PATCHES_UP_TO = 64  # C_in k_h k_w up to which explicit patches beat the grouped kernel


def _conv2d(mod: nn.Module, h: torch.Tensor, g: torch.Tensor, c: int) -> list[torch.Tensor]:
    """Per part, by one of two routes that give the same numbers up to rounding (which
    one is faster was measured on a 2-core CPU): for narrow patches, the patches times
    the output gradients as one batched product; for wide ones, the convolution's own
    weight-gradient kernel with the ``c`` parts as ``c`` groups (part ``j``'s channels
    side by side: input channels ``j C_in ..``, output channels ``j C_out ..``)."""
    assert isinstance(mod, nn.Conv2d)
    cout = g.shape[1]
    cols = g.reshape(c, -1, cout, g[0, 0].numel())  # (c, m, C_out, L)
    if mod.groups == 1 and _patch_size(mod, h) <= PATCHES_UP_TO:
        u = patches(h, mod)
        rows = u.reshape(c, -1, u[0, 0, 0].numel())  # (c, m L, K): the one copy of them
        w = torch.bmm(cols.transpose(1, 2).reshape(c, cout, -1), rows)  # (c, C_out, K)
    else:
        m, cin = len(h) // c, h.shape[1]
        stacked = h.reshape(c, m, *h.shape[1:]).transpose(0, 1).reshape(m, c * cin, *h.shape[2:])
        grads = g.reshape(c, m, *g.shape[1:]).transpose(0, 1).reshape(m, c * cout, *g.shape[2:])
        shape = (c * cout, cin // mod.groups, *mod.kernel_size)
        padding = 0 if isinstance(mod.padding, str) else mod.padding  # "valid" (checked)
        w = conv2d_weight(stacked, shape, grads, mod.stride, padding, mod.dilation, c * mod.groups)
    out = [w.reshape(c, -1)]
    return out if mod.bias is None else [*out, cols.sum((1, 3))]


def _patch_size(mod: nn.Conv2d, h: torch.Tensor) -> int:
    return int(h.shape[1] * mod.kernel_size[0] * mod.kernel_size[1])


def _group_norm(mod: nn.Module, h: torch.Tensor, g: torch.Tensor, c: int) -> list[torch.Tensor]:
    assert isinstance(mod, nn.GroupNorm)
    xhat = F.group_norm(h, mod.num_groups, None, None, mod.eps)
    channels = h.shape[1]
    per = lambda t: t.reshape(c, -1, channels, t[0, 0].numel()).sum((1, 3))  # noqa: E731
    return [per(g * xhat), per(g)]


def _layer_norm(mod: nn.Module, h: torch.Tensor, g: torch.Tensor, c: int) -> list[torch.Tensor]:
    assert isinstance(mod, nn.LayerNorm)
    shape = mod.normalized_shape
    xhat = F.layer_norm(h, shape, None, None, mod.eps)
    per = lambda t: t.reshape(c, -1, math.prod(shape)).sum(1)  # noqa: E731
    return [per(g * xhat)] if mod.bias is None else [per(g * xhat), per(g)]


RULES: dict[type, Rule] = {
    nn.Linear: _linear,
    nn.Conv2d: _conv2d,
    nn.GroupNorm: _group_norm,
    nn.LayerNorm: _layer_norm,
}


def _bytes_per_sample(mod: nn.Module, h: torch.Tensor, g: torch.Tensor) -> int:
    """Temporaries one sample costs in its layer's rule (unfolded patches and their
    rearranged copy for a convolution; normalized input and a product for a norm)."""
    item = h.element_size()
    if isinstance(mod, nn.Conv2d):  # the patches (or the regrouped input), the gradients
        if mod.groups == 1 and _patch_size(mod, h) <= PATCHES_UP_TO:
            k = _patch_size(mod, h)
            return item * ((k + g.shape[1]) * g[0, 0].numel() + 2 * h[0].numel())
        return 2 * item * (h[0].numel() + g[0].numel())
    if isinstance(mod, nn.GroupNorm | nn.LayerNorm):
        return 3 * item * h[0].numel()
    return 0


def blocks(
    parts: int, m: int, per_sample: int, per_part: int, budget: int
) -> Iterator[tuple[int, int, int, int]]:
    """``(first part, end part, first sample, end sample)`` blocks covering every part:
    several whole parts while their temporaries fit ``budget``, else slices of one part."""
    whole = m * per_sample + per_part
    if whole <= budget:
        step = max(1, budget // max(whole, 1))
        for p in range(0, parts, step):
            yield p, min(parts, p + step), 0, m
        return
    step = max(1, (budget - per_part) // max(per_sample, 1)) if budget > per_part else 1
    for p in range(parts):
        for a in range(0, m, step):
            yield p, p + 1, a, min(m, a + step)


class PartGrads:
    """Per-part gradients of the mean cross-entropy for a model :func:`layers` handles."""

    def __init__(self, model: nn.Module, found: list[Layer], budget: int) -> None:
        self.model, self.layers, self.budget = model, found, budget
        self.roots: list[torch.Tensor] = []

    def _record(self, layer: Layer) -> Callable[..., torch.Tensor]:
        def hook(
            mod: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor
        ) -> torch.Tensor:
            h = args[0].detach()
            record: list[torch.Tensor | int | None] = [h, h._version, None]
            layer.records.append(record)
            keep = lambda grad: record.__setitem__(2, grad)  # noqa: E731
            if output.requires_grad:
                output.register_hook(keep)
                return output
            # a first layer (its input is data): the graph starts at its output, a leaf,
            # passed on as a copy that later in-place operations may change
            root = output.detach().requires_grad_(True)
            root.register_hook(keep)
            self.roots.append(root)
            return root.clone()

        return hook

    def backward(self, x: torch.Tensor, y: torch.Tensor, parts: int) -> torch.Tensor:
        """Forward over ``x`` (N, ...) and backward of ``sum_p mean-loss of part p``;
        every layer's inputs and output gradients are recorded. Returns the (N,)
        per-sample losses."""
        m = len(y) // parts
        for layer in self.layers:
            layer.records = []
        self.roots = []
        handles = [layer.module.register_forward_hook(self._record(layer)) for layer in self.layers]
        try:  # no weight gradients: the parameters are constants of this graph
            detached = {n: p.detach() for n, p in self.model.named_parameters()}
            logits = functional_call(self.model, detached, (x.detach(),))
        finally:
            for handle in handles:
                handle.remove()
        losses = F.cross_entropy(logits, y, reduction="none")  # (N,)
        if not self.roots or not logits.requires_grad:
            raise Unsupported("the output does not depend on the recorded layers")
        torch.autograd.grad(losses.sum() / m, self.roots, allow_unused=True)
        self.roots = []
        for layer in self.layers:
            for h, version, g in layer.records:
                assert isinstance(h, torch.Tensor)
                if h._version != version:
                    raise Unsupported("an in-place operation changed a layer's input")
                if g is None:
                    raise Unsupported("no gradient reached a layer's output")
        return losses.detach()

    def write(self, out: torch.Tensor, parts: int) -> None:
        """Every part's gradient into ``out`` (P, d), from the last :meth:`backward`."""
        for layer in self.layers:
            rule = RULES[type(layer.module)]
            if not layer.records:  # a layer the forward did not use: zero gradient
                for _, at, size in layer.slots:
                    out[:, at : at + size].zero_()
            for call, (h, _, g) in enumerate(layer.records):
                assert isinstance(h, torch.Tensor) and isinstance(g, torch.Tensor)
                m = len(h) // parts
                hp, gp = h.reshape(parts, m, *h.shape[1:]), g.reshape(parts, m, *g.shape[1:])
                per_sample = _bytes_per_sample(layer.module, h, g)
                per_part = 4 * sum(size for _, _, size in layer.slots)
                for p0, p1, a, b in blocks(parts, m, per_sample, per_part, self.budget):
                    hb = hp[p0:p1, a:b].reshape(-1, *h.shape[1:])
                    gb = gp[p0:p1, a:b].reshape(-1, *g.shape[1:])
                    grads = rule(layer.module, hb, gb, p1 - p0)
                    for (_, at, size), grad in zip(layer.slots, grads, strict=True):
                        dst = out[p0:p1, at : at + size]
                        dst.copy_(grad) if call == 0 and a == 0 else dst.add_(grad)
            layer.records = []
