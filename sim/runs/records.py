"""Typed records of a run: one per iteration, one summary, one status.

Every layer imports these: the PS fills an :class:`IterationRecord` per iteration, the
sink streams it to ``metrics.csv``, the summary is computed from the records, and the
report and the sweep tables read :class:`Summary` back from ``summary.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

NAN = math.nan


class Status(StrEnum):
    """How a run ended. ``completed`` and ``diverged`` are results; the others are not."""

    completed = "completed"
    diverged = "diverged"  # the model became non-finite: the run stopped there
    interrupted = "interrupted"  # a signal: a checkpoint lets it continue
    failed = "failed"  # an error inside the run: what was done is kept

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        """A rerun would only repeat this result."""
        return self in (Status.completed, Status.diverged)


@dataclass
class IterationRecord:
    """One row of ``metrics.csv``. The round's math fills the learning columns; the PS
    adds the times (``NaN`` until then)."""

    iteration: int
    sim_time_s: float = NAN  # simulated clock at the end of this iteration
    iteration_time_s: float = NAN
    loss: float = NAN  # training loss on this iteration's global batch, before the update
    test_loss: float = NAN  # NaN when not evaluated this iteration
    accuracy: float = NAN  # test accuracy; NaN when not evaluated this iteration
    adversaries: int = 0
    adversary_ranks: str = ""  # ";"-separated ranks
    received: int = 0  # messages the PS used
    decode_failures: float = 0  # NaN in timing-only runs (values unknown)
    corrupted_updates: float = 0  # ground truth: 1 if the applied update differs from honest
    suspects: str = ""  # ranks the decoder located as lying
    decode_s: float = NAN
    aggregate_s: float = NAN
    rejected: int = 0  # messages refused at the PS (wrong shape, dtype or type): erasures
    influence: float = NAN  # adversarial candidates the rule kept (sim/aggregators/base.py)
    geomed_iterations: float = NAN  # Weiszfeld steps taken; NaN for other rules
    attack: str = ""  # active adversary groups: name(ranks=...,effective parameters)
    # parts whose vote the adversaries won (their copies alone back the candidate); NaN
    # where the code does not vote per part (cyclic) or no values exist (timing only)
    distorted_parts: float = NAN
    # 1 when the PS applied no update: nothing (or too little) arrived or decoded in time
    # for the rule; NaN in timing-only runs
    skipped_updates: float = 0

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass
class Outcome:
    """What the PS's math produced in one iteration."""

    record: IterationRecord  # the learning columns; times are the PS's to add
    decode_ops: float = 0.0  # scalar operations spent decoding (cost model)
    aggregate_ops: float = 0.0
    diverged: bool = False  # the model is no longer finite: the run stops here


@dataclass
class Summary:
    """``summary.json``: what a run did, in one object. Non-finite numbers are ``null``
    in the file and NaN here; a key a file lacks (an older run) takes its default."""

    status: Status
    iterations: int = 0
    sim_time_s: float = NAN
    wall_time_s: float = NAN
    final_loss: float = NAN
    final_train_loss: float = NAN
    final_accuracy: float = NAN
    decode_failures: float = 0
    corrupted_updates: float = 0
    skipped_updates: float = 0  # iterations that applied no update
    iterations_with_adversaries: int = 0
    # every iteration applied exactly the adversary-free update (no decode failure, no
    # corrupted and no skipped update); None: not known (timing only)
    guarantee_held: bool | None = None
    parameters: int = 0
    classes: int | None = None  # classes of the data set (chance accuracy: 1/classes)
    model_digest: str | None = None  # SHA-256 of the final parameters' bytes; None: timing only
    workload: str = "gradients"
    mean_iteration_time_s: float = NAN
    rejected_messages: int = 0
    signal: str | None = None
    error: str | None = None
    resumed_from: int | None = None
    checkpoint_iteration: int | None = None
    output_errors: list[str] = field(default_factory=list)  # optional files not written
    epsilon: float = NAN  # distorted parts / (iterations x parts): ByzShield's epsilon
    # torch CPU threads the run computed with: results are bit-identical run to run for
    # the same count (parallel kernels may add in another order with another count)
    threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    def plain(self) -> dict[str, Any]:
        """As in the file: a non-finite number (a diverged model's loss) is None."""
        return {k: _finite(v) for k, v in self.to_dict().items()}

    def to_json(self) -> str:
        """Strict JSON (non-finite numbers as null)."""
        return json.dumps(self.plain(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for f in fields(cls):
            if f.type in ("float", float) and values.get(f.name) is None:
                values[f.name] = NAN
        values["status"] = Status(values["status"])
        return cls(**values)

    @classmethod
    def load(cls, run_dir: Path) -> Summary | None:
        """The run dir's ``summary.json``; None if it is absent or not a summary."""
        try:
            return cls.from_dict(json.loads((Path(run_dir) / "summary.json").read_text()))
        except (OSError, ValueError, TypeError, KeyError):
            return None


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v
