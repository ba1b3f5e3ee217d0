"""``python tests/slow_end.py ARGS`` is ``python -m sim ARGS`` with the end of the run slowed:
a pause before the final checkpoint and before every optional file, so a test can send a
signal (or a SIGKILL) at a chosen moment after the last iteration."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.cli import main  # noqa: E402
from sim.runs import session  # noqa: E402

PAUSE_S = 0.3
standard = session.standard_outputs
save = session.Session.save_checkpoint


def slow_outputs(*args: Any) -> dict[str, session.Output]:
    def slowed(write: session.Output) -> session.Output:
        def pause_then_write(path: Path) -> None:
            time.sleep(PAUSE_S)
            write(path)

        return pause_then_write

    return {name: slowed(write) for name, write in standard(*args).items()}


def slow_save(self: session.Session, next_iteration: int, now: float) -> None:
    if next_iteration == self.world.iterations:  # the final checkpoint, after the loop
        time.sleep(PAUSE_S)
    save(self, next_iteration, now)


session.standard_outputs = slow_outputs  # type: ignore[assignment]
session.Session.save_checkpoint = slow_save  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
