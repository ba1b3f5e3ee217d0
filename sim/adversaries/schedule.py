"""When an adversary group is active: from ``start`` until ``stop``, each time with a probability.

Outside its schedule a group's workers follow the protocol. The coin is drawn from the
group's own schedule stream, only inside ``[start, stop)`` and only when
``probability < 1``, so a schedule never shifts any other random draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Schedule:
    start: int = 0  # first active iteration
    stop: int | None = None  # first inactive iteration after start; None: to the end
    probability: float = 1.0  # chance of being active in an iteration inside [start, stop)
    rng: np.random.Generator | None = None

    def active(self, iteration: int) -> bool:
        if iteration < self.start or (self.stop is not None and iteration >= self.stop):
            return False
        if self.probability >= 1.0:
            return True
        assert self.rng is not None, "a probabilistic schedule needs its stream"
        return bool(self.rng.random() < self.probability)
