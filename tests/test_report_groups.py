"""What the comparison figures say: seeds as one group, identical runs named, the
adversary-free run as the reference, "never reached", titles that name the runs.
Checked on made-up runs (no training); the drawing on a real sweep: test_report.py."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image

from sim.report.compare import accuracy_heatmap, accuracy_vs_time, time_to_target_bars
from sim.report.groups import compare, findings, time_to_target
from sim.report.scenario import describe, headline, sweep_title
from sim.runs.records import IterationRecord, Status, Summary
from sim.runs.store import Result


def fake(
    count: int,
    seed: int,
    accs: list[float],
    digest: str,
    status: str = "completed",
    dt: float = 0.5,
) -> Result:
    """A finished run of ``len(accs)`` iterations of ``dt`` seconds, evaluated every one."""
    rows = [IterationRecord(i, sim_time_s=dt * (i + 1), loss=1.0, accuracy=a,
                            adversaries=count, corrupted_updates=float(count > 1))
            for i, a in enumerate(accs)]  # fmt: skip
    summary = Summary(Status(status), iterations=len(accs), final_accuracy=accs[-1],
                      corrupted_updates=sum(r.corrupted_updates for r in rows), classes=10,
                      iterations_with_adversaries=len(accs) if count else 0,
                      model_digest=digest, mean_iteration_time_s=0.5)  # fmt: skip
    overrides = {"experiment": "lesson_x", "adversary.count": str(count), "seed": str(seed)}
    return Result(summary, overrides=overrides, given=rows, resolved={})


def sweep() -> list[Result]:
    """A lesson-like sweep: 0, 1, 2 liars x 2 seeds; one liar changes nothing, two diverge."""
    runs = []
    for count in (0, 1, 2):
        for seed in (0, 1):
            if count < 2:
                accs = [0.2 + 0.05 * seed, 0.3, 0.4 + 0.01 * seed]
                runs.append(fake(count, seed, accs, f"model-{seed}"))
            else:
                runs.append(fake(count, seed, [0.1], f"broken-{seed}", "diverged"))
    return runs


def test_seeds_form_one_group_and_identical_runs_are_named() -> None:
    c = compare(sweep())
    assert [g.label for g in c.groups] == [f"adversary.count={n}" for n in (0, 1, 2)]
    none, one, two = c.groups
    assert [g.seeds for g in c.groups] == [2, 2, 2]
    assert none.reference and not one.reference and not two.reference
    assert one.same_as is none and two.same_as is None
    assert two.ended == "diverged"
    assert c.chance == 0.1
    iteration, t, mean, low, high = none.points()[0]
    assert (iteration, t, low, high) == (0.0, 0.5, 0.2, 0.25) and math.isclose(mean, 0.225)
    said = findings(c)
    assert "identical runs: adversary.count=0 = adversary.count=1" in said
    assert "adversary.count=2: diverged at iteration 0, 2/2 updates corrupted" in said


def test_the_same_model_at_another_time_is_told_apart_from_an_identical_run() -> None:
    runs = [fake(0, 0, [0.2, 0.3], "m"), fake(0, 0, [0.2, 0.3], "m", dt=1.5)]
    runs[0].overrides["code"], runs[1].overrides["code"] = "none", "repetition"
    c = compare(runs)
    assert c.groups[1].same_as is None
    said = "the same model bit for bit, at different times: code=none = code=repetition"
    assert findings(c) == [said]


def test_titles_name_what_is_shared_and_what_varies() -> None:
    c = compare(sweep(), title="Lesson X")
    assert c.title == "Lesson X: adversary.count = 0, 1, 2; seed = 0, 1"
    assert sweep_title({"code": "none"}, {"seed": ["0", "1"]}) == "code=none: seed = 0, 1"
    assert headline("") == "draco-sim: the default scenario"
    assert (
        headline("experiment=lesson_1 adversary.count=1", "Lesson 1")
        == "Lesson 1: adversary.count=1"
    )
    cfg = {"code": {"_target_": "sim.codes.repetition.RepetitionCode", "r": 3},
           "aggregator": {"_target_": "sim.aggregators.mean.Mean", "pre": [], "f": 0},
           "adversary": {"_target_": "sim.adversaries.strategies.Reverse", "count": 1,
                         "placement": "fixed"},
           "cluster": {"workers": 15}, "latency": {"_target_": "sim.latency.Constant"},
           "data": {"_target_": "sim.training.datasets.mnist1d"},
           "train": {"iterations": 200}}  # fmt: skip
    assert describe(cfg) == (
        "repetition code r=3, then mean · 15 workers · 1 reverse adversary (fixed) · "
        "mnist1d, 200 iterations, seed 0"
    )


def test_never_reached_is_an_infinite_time() -> None:
    runs = sweep()
    assert time_to_target(runs[0], 0.3) == 1.0
    assert time_to_target(runs[-1], 0.3) == math.inf


def test_the_figures_are_drawn(tmp_path: Path) -> None:
    runs = sweep()
    accuracy_vs_time(runs, tmp_path / "a.png")
    time_to_target_bars(runs, 0.3, tmp_path / "t.png")
    assert accuracy_heatmap(runs, tmp_path / "h.png")  # count x seed
    for name in ("a.png", "t.png", "h.png"):
        with Image.open(tmp_path / name) as im:
            assert im.width > 600 and im.height > 300
    assert not accuracy_heatmap(runs[:2], tmp_path / "none.png")  # one dimension only
