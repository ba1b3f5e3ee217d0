"""Hostile adversary strategies for tests: values no honest worker sends, and malformed messages.

Select one with ``adversary=reverse adversary._target_=tests.hostile.NaNs`` (the
``scale`` parameter of ``reverse`` is accepted and ignored).
"""

from __future__ import annotations

from typing import Any

import torch

Sent = list[Any]


class _Strategy:
    def __init__(self, **_: Any) -> None:
        pass

    def forge(self, g: torch.Tensor) -> Any:
        raise NotImplementedError

    def __call__(self, own: torch.Tensor, honest: Any, gen: torch.Generator) -> Sent:
        return [self.forge(g) for g in own]


class NaNs(_Strategy):
    def forge(self, g: torch.Tensor) -> Any:
        return torch.full_like(g, float("nan"))


class Infs(_Strategy):
    def forge(self, g: torch.Tensor) -> Any:
        out = torch.full_like(g, float("inf"))
        out[::2] = -float("inf")
        return out


class Huge(_Strategy):
    def forge(self, g: torch.Tensor) -> Any:
        return torch.full_like(g, 1e38)


class WrongShape(_Strategy):
    def forge(self, g: torch.Tensor) -> Any:
        return torch.zeros(g.numel() + 1, dtype=g.dtype)


class WrongDtype(_Strategy):
    def forge(self, g: torch.Tensor) -> Any:
        return g.double()


class NotATensor(_Strategy):
    def forge(self, g: torch.Tensor) -> Any:
        return g.tolist()


class Silent(_Strategy):
    def forge(self, g: torch.Tensor) -> Any:
        return None


MALFORMED = ["WrongShape", "WrongDtype", "NotATensor"]
NON_FINITE = ["NaNs", "Infs", "Huge"]
