"""``python -m sim``: compose the scenario, build, run, write outputs into the run dir.

Exit status: 0 for a finished run (``completed`` or ``diverged``: both are results);
2 for a bad setting or input file, with one ``error: ...`` line per problem and no
traceback (``HYDRA_FULL_ERROR=1`` shows it); ``128 + signal`` (130 for Ctrl-C, 143 for
SIGTERM) for an interrupted run, after its outputs are written.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.config import register
from sim.errors import ConfigError
from sim.friendly import precheck
from sim.sweep.task import run_job
from sim.world import simulate

register()
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
_exit = {"status": 0}  # a sweep keeps going past an invalid job and reports it at the end


def _full_error() -> bool:
    return os.environ.get("HYDRA_FULL_ERROR") == "1"


def report(err: ConfigError, job: str = "") -> None:
    for line in err.problems:
        print(f"error: {job}{line}", file=sys.stderr)


@hydra.main(version_base="1.3", config_path=str(SCENARIOS), config_name="config")
def run(cfg: DictConfig) -> float:
    hc = HydraConfig.get()
    sweep = hc.mode is RunMode.MULTIRUN
    try:
        out_dir, summary = run_job(cfg, simulate)
    except ConfigError as err:
        if _full_error():
            raise
        report(err, f"job {hc.job.num} ({' '.join(hc.overrides.task)}): " if sweep else "")
        _exit["status"] = 2
        return float("nan")
    if summary["status"] == "interrupted":
        done, at = summary["iterations"], summary["checkpoint_iteration"]
        again = f"resume=true hydra.run.dir={out_dir}" if at is not None else "(no checkpoint)"
        print(
            f"interrupted by {summary['signal']} after {done} iterations; outputs in {out_dir}; "
            f"continue from iteration {at} with: {again}",
            file=sys.stderr,
        )
        sys.exit(128 + signal.Signals[summary["signal"]].value)
    if summary["status"] == "diverged":
        print(
            f"warning: the model became non-finite at iteration {summary['iterations'] - 1}; "
            f"the run stopped there (status: diverged)",
            file=sys.stderr,
        )
    if summary.get("workload") == "timing_only":
        print(
            f"{out_dir}: timing only, sim time {summary['sim_time_s']:.3f}s, "
            f"{summary['mean_iteration_time_s']:.4f}s per iteration"
        )
        return float(summary["sim_time_s"])
    print(
        f"{out_dir}: final accuracy {summary['final_accuracy']:.4f}, "
        f"corrupted updates {summary['corrupted_updates']}, "
        f"decode failures {summary['decode_failures']}, sim time {summary['sim_time_s']:.3f}s"
    )
    return float(summary["final_accuracy"])


def cli(argv: list[str]) -> int:
    """Run ``python -m sim ARGV`` in this process; the exit status."""
    _exit["status"] = 0
    if not _full_error():
        problems = precheck(argv, SCENARIOS)
        if problems:
            for line in problems:
                print(f"error: {line}", file=sys.stderr)
            return 2
    saved, sys.argv = sys.argv, [sys.argv[0], *argv]
    try:
        run()
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.argv = saved
    return _exit["status"]


def main() -> None:
    sys.exit(cli(sys.argv[1:]))


if __name__ == "__main__":
    main()
