"""Fault- and data-level strategies: omission, timing, poisoned training data.

- crash: sends nothing (an erasure at the PS, never a zero vector); with the schedule's
  ``adversary.start`` it crashes from that iteration on.
- delay: sends its honest message, but holds it back ``seconds`` of simulated time
  before the upload — harmless under ``ps.wait=all`` except for time, an erasure under
  ``first_k`` or ``deadline`` when it arrives too late.
- label_flip: trains on its own data part with labels ``y -> classes - 1 - y``; the
  adversary computes ``own`` that way (``flip_labels``) and this strategy sends it.
"""

from __future__ import annotations

import torch

from sim.adversaries.strategies import HonestView, Sent
from sim.config.ranges import Seconds


class Crash:
    """Omission: the worker sends nothing."""

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        return [None] * len(own)


class Delay:
    """Timing attack: the honest message, uploaded ``seconds`` later than it could be."""

    def __init__(self, seconds: Seconds = 1.0) -> None:
        """``seconds``: extra simulated seconds before the upload."""
        self.delay_s = seconds

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        return list(own)


class LabelFlip:
    """Data-level: the gradient of its own data part with flipped labels ``C - 1 - y``."""

    flip_labels = True  # the adversary hands in ``own`` computed on flipped labels

    def __call__(self, own: torch.Tensor, honest: HonestView | None, gen: torch.Generator) -> Sent:
        return list(own)
