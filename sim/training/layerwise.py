"""Any weighted sum of per-sample gradients from ONE forward and ONE backward.

For a stack of ``nn.Linear`` layers joined by parameter-free functions (an MLP), the
gradient of sample ``s``'s loss with respect to a layer's weight is the outer product
``delta_s h_s^T`` of the layer's output gradient ``delta_s`` and its input ``h_s``
(bias: ``delta_s``). Backpropagation of a sum of per-sample losses yields every
``delta_s`` at once, and they do not depend on how samples are later weighted. So
after one forward and one backward to the layer outputs (no weight gradients), any
``sum_s w_s grad_s`` costs one matrix product per layer — the weight-gradient half of
a backward — and part ``p``'s gradient alone costs ``1/P`` of that.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class Slot:
    """Where one linear layer's weight and bias live in the flat parameter vector."""

    layer: nn.Linear
    weight_at: int
    bias_at: int | None  # None: the layer has no bias


def linear_slots(model: nn.Module, params: list[nn.Parameter]) -> list[Slot] | None:
    """The model's linear layers and their offsets in ``params`` (flattened in order),
    or None when the model is not a ``nn.Sequential`` of linear and parameter-free layers."""
    if not isinstance(model, nn.Sequential):
        return None
    offsets: dict[int, int] = {}
    at = 0
    for p in params:
        offsets[id(p)] = at
        at += p.numel()
    slots = []
    for mod in model:
        if isinstance(mod, nn.Linear):
            bias = None if mod.bias is None else offsets[id(mod.bias)]
            slots.append(Slot(mod, offsets[id(mod.weight)], bias))
        elif any(True for _ in mod.parameters()) or any(True for _ in mod.buffers()):
            return None
    return slots


@dataclass
class Deltas:
    """One iteration's forward and backward: inputs and output gradients of each layer."""

    inputs: list[torch.Tensor]  # per linear layer (N, in)
    deltas: list[torch.Tensor]  # per linear layer (N, out): d(loss_s)/d(output_s) / N
    losses: torch.Tensor  # (N,) per-sample losses (detached)


def backward_to_outputs(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> Deltas:
    """Forward over ``x`` (N, features) and backpropagate ``sum_s loss_s`` to the linear
    layers' outputs only."""
    inputs: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []
    a = x
    for mod in model:
        if isinstance(mod, nn.Linear):
            inputs.append(a.detach())
            a = F.linear(a, mod.weight.detach(), None if mod.bias is None else mod.bias.detach())
            if not outputs:
                a.requires_grad_(True)  # the graph starts at the first layer's output
            outputs.append(a)
        else:
            a = mod(a)
    losses = F.cross_entropy(a, y, reduction="none")  # (N,)
    # backpropagate the batch MEAN: then the mean gradient needs no rescaling pass
    deltas = torch.autograd.grad(losses.mean(), outputs)
    return Deltas(inputs, list(deltas), losses.detach())


def weighted_grad(
    slots: list[Slot],
    acts: Deltas,
    w: torch.Tensor | None,
    out: torch.Tensor,
    rows: slice = slice(None),
) -> torch.Tensor:
    """Write ``sum_s w_s N grad_s`` over samples ``rows`` into the flat (d,) ``out``;
    ``w=None`` means every ``w_s = 1/N``: the batch-mean gradient, one product per layer.
    """
    for slot, h, delta in zip(slots, acts.inputs, acts.deltas, strict=True):
        h, delta = h[rows], delta[rows]
        o, i = slot.layer.out_features, slot.layer.in_features
        weight = out[slot.weight_at : slot.weight_at + o * i].view(o, i)
        scaled = delta if w is None else delta * w[:, None]
        torch.mm(scaled.t(), h, out=weight)
        if slot.bias_at is not None:
            torch.sum(scaled, 0, out=out[slot.bias_at : slot.bias_at + o])
    return out


def per_part_grads(
    slots: list[Slot], acts: Deltas, parts: int, scale: float, out: torch.Tensor, chunk: int
) -> torch.Tensor:
    """Write ``scale * N * sum_{s in part p} grad_s`` for every part p into ``out`` (P, d);
    samples are ``parts`` consecutive equal blocks. ``chunk`` parts per batched product."""
    for slot, h, delta in zip(slots, acts.inputs, acts.deltas, strict=True):
        o, i = slot.layer.out_features, slot.layer.in_features
        hp = h.reshape(parts, -1, i)
        dp = delta.reshape(parts, -1, o) * scale
        for s in range(0, parts, chunk):
            e = min(parts, s + chunk)
            block = torch.bmm(dp[s:e].transpose(1, 2), hp[s:e])  # (c, o, i)
            out[s:e, slot.weight_at : slot.weight_at + o * i].copy_(block.reshape(e - s, -1))
            if slot.bias_at is not None:
                out[s:e, slot.bias_at : slot.bias_at + o].copy_(dp[s:e].sum(1))
    return out
