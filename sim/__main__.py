"""``python -m sim``: compose the scenario, build, run, write outputs into the run dir."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from sim.config import register
from sim.errors import ConfigError
from sim.sweep.task import run_job
from sim.world import simulate

register()


@hydra.main(version_base="1.3", config_path="../scenarios", config_name="config")
def run(cfg: DictConfig) -> float:
    try:
        out_dir, summary = run_job(cfg, simulate)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
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


def main() -> None:
    run()


if __name__ == "__main__":
    main()
