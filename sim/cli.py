"""``python -m sim`` / ``draco-sim``: compose a scenario, check it, build it, run it.

A single run composes its config once, checks it and builds the whole simulation
*before* Hydra makes the run dir, so a bad setting or input file leaves nothing behind;
then Hydra's job machinery runs it in its run dir (``.hydra/``, the job log). A sweep
(``-m``) checks every job's config before the first job runs (:mod:`sim.sweep.sweeper`).
Flags such as ``--help``, ``--cfg job`` or ``--info`` are Hydra's own.

Exit status: 0 for a finished run (``completed`` or ``diverged``: both are results);
2 for a bad setting or input file, with one ``error: ...`` line per problem and no
traceback (``HYDRA_FULL_ERROR=1`` shows it); ``128 + signal`` (130 for Ctrl-C, 143 for
SIGTERM) for an interrupted run, after its outputs are written.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from sim.config.errors import ConfigError
from sim.config.friendly import explain
from sim.runs.records import Status

CONFIG_DIR = Path(__file__).resolve().parent / "scenarios"
CONFIG_NAME = "config"
APP = "draco-sim"
_exit = {"status": 0}  # a sweep keeps going past a failed job and reports it at the end


def _full_error() -> bool:
    return os.environ.get("HYDRA_FULL_ERROR") == "1"


def say(lines: list[str], prefix: str = "") -> None:
    for line in lines:
        print(f"error: {prefix}{line}", file=sys.stderr)


def register() -> None:
    """Everything Hydra must know before it composes: every option (the sweeper is a
    Hydra plugin, ``hydra_plugins/draco_sim``, found by Hydra itself)."""
    from sim.config.options import register as register_options
    from sim.sweep.dirs import register_resolvers

    register_options()
    register_resolvers()


def task_config(cfg: DictConfig) -> DictConfig:
    """The run's own settings: the composed config without Hydra's node."""
    out = cfg.copy()
    with open_dict(out):
        out.pop("hydra", None)
    return out


# ---------------------------------------------------------------- the job


def job(cfg: DictConfig, world: Any = None, payload: Any = None) -> float:
    """One run in Hydra's job dir (a sweep job, or a single run built beforehand and,
    when it resumes, its checkpoint checked beforehand).

    Returns the objective a sweeper optimizes: the final accuracy (the simulated time
    for a timing-only run).
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from sim.report.painter import draw_here
    from sim.runs.session import execute
    from sim.sweep.resume import resumable
    from sim.sweep.threads import cap_threads, parallel_jobs

    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    sweep = hc.mode is RunMode.MULTIRUN
    threads = cap_threads(cfg.threads, hc.launcher)
    if sweep and parallel_jobs(hc.launcher):
        draw_here()  # the other cores run the other jobs: no figure process beside this one
    try:
        if sweep:
            summary = resumable(cfg, out_dir, Path(hc.sweep.dir), _simulate, threads)
            signum = None
        else:
            result = execute(cfg, out_dir, world, label=_label(hc.overrides.task), payload=payload)
            summary, signum = result.finished, result.signal
    except ConfigError as err:
        if _full_error():
            raise
        say(err.problems, f"job {hc.job.num} ({' '.join(hc.overrides.task)}): " if sweep else "")
        _exit["status"] = 2
        return float("nan")
    return _conclude(summary, out_dir, signum)


def _simulate(cfg: DictConfig, out_dir: Path, payload: Any = None) -> Any:
    from hydra.core.hydra_config import HydraConfig

    from sim.runs.session import execute

    label = _label(HydraConfig.get().overrides.task)
    return execute(cfg, out_dir, label=label, payload=payload).finished


def _label(overrides: Any) -> str:
    """What a command line changed, for titles: its overrides minus display settings."""
    quiet = ("hydra.", "progress=", "threads=", "outputs.")
    return " ".join(str(o) for o in overrides if not str(o).startswith(quiet))


def _conclude(summary: Any, out_dir: Path, signum: int | None) -> float:
    """Say how the run ended; exit with the signal's status if one stopped it."""
    status = summary.status
    for problem in summary.output_errors:
        print(f"warning: {problem}", file=sys.stderr)
    if status is Status.interrupted:
        done, at = summary.iterations, summary.checkpoint_iteration
        again = f"resume=true hydra.run.dir={out_dir}" if at is not None else "(no checkpoint)"
        print(
            f"interrupted by {summary.signal} after {done} iterations; outputs in {out_dir}; "
            f"continue from iteration {at} with: {again}",
            file=sys.stderr,
        )
        sys.exit(128 + signal.Signals[summary.signal].value)
    if status is Status.diverged:
        print(
            f"warning: the model became non-finite at iteration {summary.iterations - 1}; "
            f"the run stopped there (status: diverged)",
            file=sys.stderr,
        )
    skipped = summary.skipped_updates
    if skipped > 0:  # NaN (timing only) is not
        what = (
            "no iteration applied an update: the model never trained"
            if skipped == summary.iterations
            else f"{skipped:g} of {summary.iterations} iterations applied no update"
        )
        print(
            f"warning: {what} (nothing, or too little for the rule, arrived and decoded in "
            f"time; see skipped_updates in metrics.csv)",
            file=sys.stderr,
        )
    if summary.workload == "timing_only":
        print(
            f"{out_dir}: timing only, sim time {summary.sim_time_s:.3f}s, "
            f"{summary.mean_iteration_time_s:.4f}s per iteration"
        )
        objective = float(summary.sim_time_s)
    else:
        print(
            f"{out_dir}: final accuracy {summary.final_accuracy:.4f}, "
            f"corrupted updates {summary.corrupted_updates}, "
            f"decode failures {summary.decode_failures}, sim time {summary.sim_time_s:.3f}s"
        )
        objective = float(summary.final_accuracy)
    if signum is not None:
        sys.exit(128 + signum)
    return objective


# ---------------------------------------------------------------- entry


def _hydra(args: Any) -> Any:
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.config_search_path import SearchPathQuery

    register()
    search_path = create_config_search_path(str(CONFIG_DIR))
    if args.config_dir is not None:
        extra = os.path.abspath(args.config_dir)
        if not os.path.isdir(extra):
            what = "is a file, not a directory" if os.path.exists(extra) else "no such directory"
            raise ConfigError(f"--config-dir {args.config_dir}: {what}")
        search_path.prepend(
            provider="command-line", path=f"file://{extra}", anchor=SearchPathQuery("schema")
        )
    return Hydra.create_main_hydra2(task_name=APP, config_search_path=search_path)


def single(hydra: Any, config_name: str, overrides: list[str]) -> int:
    """Compose once, check and build before the run dir exists, then run as a Hydra job."""
    from hydra._internal.callbacks import Callbacks
    from hydra.core.utils import run_job
    from hydra.types import HydraContext, RunMode

    from sim.build import build
    from sim.config import validate
    from sim.config.inputs import output_dir
    from sim.config.presets import conflicts
    from sim.report.painter import stop_painter
    from sim.runs.session import resume_payload
    from sim.sweep.threads import cap_threads

    cfg = hydra.compose_config(
        config_name=config_name,
        overrides=overrides,
        with_log_configuration=True,
        run_mode=RunMode.RUN,
    )
    with open_dict(cfg.hydra):
        cfg.hydra.mode = RunMode.RUN
    run_dir = output_dir("hydra.run.dir", str(OmegaConf.select(cfg, "hydra.run.dir", default="")))
    clash = conflicts(cfg, hydra.config_loader)
    if clash:
        raise ConfigError(*clash)
    task = validate.check(task_config(cfg))
    if not task.outputs.figures:
        stop_painter()  # the core is the run's
    cap_threads(task.threads, None)
    world = build(task)
    # a refused resume must leave the run dir as it was (Hydra rewrites .hydra/ below)
    payload = resume_payload(world.cfg, run_dir) if task.resume else None
    callbacks = Callbacks(cfg)
    callbacks.on_run_start(config=cfg, config_name=config_name)
    ret = run_job(
        hydra_context=HydraContext(config_loader=hydra.config_loader, callbacks=callbacks),
        task_function=lambda c: job(c, world, payload),
        config=cfg,
        job_dir_key="hydra.run.dir",
        job_subdir_key=None,
        configure_logging=True,
    )
    callbacks.on_run_end(config=cfg, config_name=config_name, job_return=ret)
    _ = ret.return_value  # raises what the job raised
    return _exit["status"]


def continued(overrides: list[str]) -> list[str]:
    """``resume=true hydra.run.dir=DIR``: DIR's own overrides first (the run's command line,
    as Hydra saved it), then these."""
    from sim.runs.store import parse_overrides, resumed_overrides, wants_resume

    if not wants_resume(overrides):
        return overrides
    run_dir = parse_overrides(overrides).get("hydra.run.dir", "")
    if not run_dir.strip():
        raise ConfigError("resume=true needs hydra.run.dir=DIR: the run dir of the run to continue")
    return resumed_overrides(Path(run_dir), overrides)


def sweep(hydra: Any, config_name: str, overrides: list[str]) -> int:
    """Every job's config is checked before the first one runs (the checked sweeper)."""
    modes = [o for o in overrides if o.startswith("hydra.mode=")]
    extra = [] if modes else ["hydra.mode=MULTIRUN"]
    hydra.multirun(config_name=config_name, task_function=job, overrides=[*overrides, *extra])
    return _exit["status"]


HELP = """draco-sim: a discrete-event simulator of Byzantine training clusters. Simulated
workers compute real PyTorch gradients; a simulated PS decodes DRACO's codes or applies
a robust aggregation rule, under stragglers, slow links and adversaries.

Usage:
  draco-sim [KEY=VALUE | GROUP=OPTION ...]     one run (the default scenario, changed)
  draco-sim -m KEY=A,B GROUP=X,Y ...          a sweep: every combination, one job each
  python -m sim ...                           the same

Config groups (GROUP=OPTION; an option's settings: draco-sim GROUP=OPTION --cfg job):
{groups}
Settings (KEY=VALUE): {sections}

Examples:
  draco-sim code=cyclic code.s=2 adversary.count=2
  draco-sim code=none aggregator=median adversary=alie train.iterations=50
  draco-sim -m experiment=lesson_1_one_liar
  draco-sim adversary=alie --cfg job           print the composed config, run nothing

Outputs go to hydra.run.dir (default outputs/DATE/TIME): metrics.csv, summary.json,
trace.json (Chrome trace), training.png, timeline.png, report.html.
Also: --cfg job|hydra|all, --info, --hydra-help, --shell-completion install=bash,
--config-dir DIR (your own configs). Docs: README.md and docs/ in the source tree.
"""


def help_text(extra_dirs: list[Path]) -> str:
    """``--help``: every group and its options, one line each, without composing."""
    from sim.config.options import GROUPS
    from sim.config.schema import SECTIONS, Config

    rows: dict[str, tuple[list[str], str]] = {
        g: (list(spec.options), spec.doc) for g, spec in GROUPS.items()
    }
    notes = {"defense": "presets of code + aggregator", "experiment": "named scenarios"}
    for root in [CONFIG_DIR, *extra_dirs]:
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "hydra"):
            names = sorted(f.stem for f in folder.glob("*.yaml"))
            listed, doc = rows.get(folder.name, ([], notes.get(folder.name, "")))
            rows[folder.name] = (listed + [n for n in names if n not in listed], doc)
    width = max(len(g) for g in rows)
    lines = [f"  {g:<{width}}  {', '.join(opts)}" + (f"  — {doc}" if doc else "")
             for g, (opts, doc) in rows.items()]  # fmt: skip
    plain = [f.name for f in dataclasses.fields(Config) if f.name not in rows]
    keys = {k: [f.name for f in dataclasses.fields(SECTIONS[k])] for k in plain if k in SECTIONS}
    sections = ", ".join(f"{k}.{{{','.join(keys[k])}}}" if k in keys else k for k in plain)
    return HELP.format(groups="\n".join(lines), sections=sections)


def _searchpath_dirs(args: Any) -> list[Path]:
    """Folders a command line adds to the config search path (``--config-dir``,
    ``hydra.searchpath=[file://...]``) that exist."""
    dirs = [Path(args.config_dir)] if args.config_dir else []
    for o in args.overrides:
        if o.startswith("hydra.searchpath="):
            for item in o.partition("=")[2].strip("[]").split(","):
                if item.strip().startswith("file://"):
                    dirs.append(Path(item.strip()[len("file://") :]))
    return [d for d in dirs if d.is_dir()]


def _plain(args: Any) -> bool:
    """No flag Hydra must handle itself (--cfg, --info, shell completion, ...)."""
    return not (
        args.help
        or args.hydra_help
        or args.cfg
        or args.info
        or args.shell_completion
        or args.resolve
        or args.package
        or args.experimental_rerun
        or args.config_path
    )


def cli(argv: list[str]) -> int:
    """Run ``python -m sim ARGV`` in this process; the exit status."""
    from hydra._internal.utils import get_args_parser
    from hydra.core.global_hydra import GlobalHydra

    _exit["status"] = 0
    parser = get_args_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    if args.help and not (args.cfg or args.hydra_help):
        print(help_text(_searchpath_dirs(args)), end="")
        return 0
    if not _plain(args):
        return _hydra_app(argv)
    config_name = args.config_name or CONFIG_NAME
    if not args.multirun:
        from sim.report.painter import painter

        painter()  # imports matplotlib on the other core while this process imports torch
    if args.multirun and "hydra/launcher=joblib" in args.overrides:
        from sim.sweep.workers import start_fork_server

        start_fork_server()  # its imports overlap with this process's own
    try:
        hydra = _hydra(args)
        if args.multirun:
            return sweep(hydra, config_name, list(args.overrides))
        return single(hydra, config_name, continued(list(args.overrides)))
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except ConfigError as err:
        if _full_error():
            raise
        say(err.problems)
        return 2
    except Exception as exc:
        lines = None if _full_error() else explain(exc, list(args.overrides))
        if lines is None:
            raise
        say(lines)
        return 2
    finally:
        GlobalHydra.instance().clear()


def _hydra_app(argv: list[str]) -> int:
    """Hand the command line to Hydra's own entry (``--help``, ``--cfg``, ...)."""
    import hydra

    register()

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name=CONFIG_NAME)
    def app(cfg: DictConfig) -> float:
        return job(cfg)

    saved, sys.argv = sys.argv, [APP, *argv]
    try:
        app()
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.argv = saved
    return _exit["status"]


def main() -> None:
    status = cli(sys.argv[1:])
    if "sim.sweep.workers" in sys.modules:  # a sweep: its launcher may hold workers
        sys.modules["sim.sweep.workers"].stop_workers()
    # Every file is closed by now. Run the exit handlers (the figure process), flush the
    # logs and streams, and skip the interpreter's teardown of torch and the rest: it
    # costs most of a second and changes nothing on disk.
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe, e.g. `| head`
            stream.flush()
    os._exit(status)
