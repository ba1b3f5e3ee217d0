"""What a comparison of runs shows, before anything is drawn.

Runs that differ only in ``seed`` form one :class:`Group` (drawn as a mean with a band);
groups whose runs trained bit-identical models (same ``model_digest``, same curve) are
*identical*, and the comparison says so instead of hiding one line under another; a group
without adversaries, next to groups with them, is the *reference*. :func:`compare` works
all of that out; :func:`findings` puts it in words for a title.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from sim.report.scenario import sweep_title
from sim.runs.records import Status
from sim.runs.store import Result

Point = tuple[float, float, float, float, float]  # iteration, time, mean, low, high


def curve(run: Result) -> list[tuple[float, float, float]]:
    """(iteration, simulated time, test accuracy) of the evaluated iterations of a run."""
    return [
        (float(r.iteration), r.sim_time_s, r.accuracy)
        for r in run.records
        if not math.isnan(r.accuracy)
    ]


def final_accuracy(run: Result) -> float:
    return math.nan if run.summary is None else run.summary.final_accuracy


def status(run: Result) -> Status | None:
    return None if run.summary is None else run.summary.status


def time_to_target(run: Result, target: float) -> float:
    """Simulated seconds until test accuracy first reaches ``target`` (inf if never)."""
    return next((t for _, t, acc in curve(run) if acc >= target), math.inf)


def override_keys(runs: Sequence[Result]) -> list[str]:
    """Every override key of the runs, in the order the command lines gave them."""
    keys: dict[str, None] = {}
    for r in runs:
        keys.update(dict.fromkeys(r.overrides))
    return list(keys)


def varying_keys(runs: Sequence[Result]) -> list[str]:
    """Override keys whose value differs between runs (the sweep's dimensions), in the
    order of the command line (the order of the sweep's tables)."""
    return [k for k in override_keys(runs) if len({r.overrides.get(k) for r in runs}) > 1]


def values(runs: Sequence[Result], key: str) -> list[str]:
    """The values ``key`` takes, in job order (the order of the sweep's tables)."""
    return list(dict.fromkeys(r.overrides.get(key, "-") for r in runs))


@dataclass
class Group:
    """Runs that differ only in their seed (often just one run)."""

    label: str
    runs: list[Result]
    reference: bool = False  # no adversary, compared with runs that have some
    same_as: Group | None = None  # an earlier group whose models are bit-identical
    ended: str = ""  # "diverged" when some of its runs diverged, "unfinished", ...

    @property
    def seeds(self) -> int:
        return len(self.runs)

    @property
    def digests(self) -> tuple[str | None, ...]:
        return tuple(None if r.summary is None else r.summary.model_digest for r in self.runs)

    @property
    def adversarial(self) -> bool:
        return any(r.summary is None or r.summary.iterations_with_adversaries for r in self.runs)

    def points(self) -> list[Point]:
        """Per evaluated iteration: mean time, mean accuracy and its min and max over the
        seeds (only iterations every seed reached, unless none did)."""
        by_run = [{it: (t, a) for it, t, a in curve(r)} for r in self.runs]
        common = set.intersection(*(set(c) for c in by_run)) if by_run else set()
        iterations = sorted(common or set().union(*by_run))
        out = []
        for it in iterations:
            here = [c[it] for c in by_run if it in c]
            accs = [a for _, a in here]
            out.append((it, statistics.fmean(t for t, _ in here), statistics.fmean(accs),
                        min(accs), max(accs)))  # fmt: skip
        return out

    def name(self) -> str:
        return f"{self.label} ({self.seeds} seeds)" if self.seeds > 1 else self.label


@dataclass
class Comparison:
    title: str
    keys: list[str]  # the varying override keys, seed excluded
    groups: list[Group] = field(default_factory=list)
    classes: int | None = None

    @property
    def chance(self) -> float | None:
        return None if not self.classes else 1.0 / self.classes


def compare(runs: Sequence[Result], title: str = "") -> Comparison:
    """Group, match and label ``runs`` (see the module doc)."""
    varying = varying_keys(runs)
    keys = [k for k in varying if k != "seed"]
    shared = {k: runs[0].overrides[k] for k in override_keys(runs) if k not in varying}
    shared = {k: v for k, v in shared.items() if all(r.overrides.get(k) == v for r in runs)}
    heading = title or _title_of(runs)
    if heading and "experiment" in shared:
        shared.pop("experiment")
    tried = {k: values(runs, k) for k in keys}
    if "seed" in varying:
        tried["seed"] = values(runs, "seed")
    line = sweep_title(shared, tried)
    if heading:
        line = f"{heading}: {line}" if line != "runs" else heading
    groups: dict[tuple[str, ...], Group] = {}
    for r in runs:
        key = tuple(r.overrides.get(k, "-") for k in keys)
        label = ", ".join(f"{k}={v}" for k, v in zip(keys, key, strict=True)) or r.name
        groups.setdefault(key, Group(label, [])).runs.append(r)
    found = list(groups.values())
    for g in found:
        ended = {status(r) for r in g.runs} - {Status.completed}
        g.ended = ", ".join(sorted(str(s) if s else "unfinished" for s in ended))
    if any(g.adversarial for g in found):
        for g in found:
            g.reference = not g.adversarial
    for i, g in enumerate(found):
        g.same_as = next((h for h in found[:i] if h.same_as is None and _same(g, h)), None)
    classes = next((r.summary.classes for r in runs if r.summary and r.summary.classes), None)
    return Comparison(line, keys, found, classes)


def _title_of(runs: Sequence[Result]) -> str:
    """The figures' title the runs' config asks for (``outputs.title``), if they agree."""
    titles = {str(r.config.get("outputs", {}).get("title", "") or "") for r in runs}
    return titles.pop() if len(titles) == 1 else ""


def _same(a: Group, b: Group) -> bool:
    """Bit-identical models in every seed, and the same curve."""
    if None in a.digests or a.digests != b.digests:
        return False
    return [curve(r) for r in a.runs] == [curve(r) for r in b.runs]


def findings(c: Comparison, counts: bool = True) -> list[str]:
    """Short statements of what the comparison shows: runs that are identical or trained
    the same model, runs that diverged, and (with ``counts``) how many iterations failed
    to decode or applied a corrupted update."""
    out = []
    twins: dict[int, list[Group]] = {}
    for g in c.groups:
        if g.same_as is not None:
            twins.setdefault(id(g.same_as), [g.same_as]).append(g)
    for names in twins.values():
        out.append("identical runs: " + " = ".join(g.label for g in names))
    models: dict[tuple[str | None, ...], list[Group]] = {}
    for g in c.groups:
        if g.same_as is None and None not in g.digests:
            models.setdefault(g.digests, []).append(g)
    for same in models.values():
        if len(same) > 1:
            alike = " = ".join(g.label for g in same)
            out.append(f"the same model bit for bit, at different times: {alike}")
    for g in c.groups:
        done = [r.summary for r in g.runs if r.summary is not None]
        said = []
        if g.ended:
            stopped = {s.iterations for s in done}
            said.append(
                g.ended + (f" at iteration {stopped.pop() - 1}" if len(stopped) == 1 else "")
            )
        iterations = sum(s.iterations for s in done)
        failures = sum(s.decode_failures for s in done)
        corrupted = sum(s.corrupted_updates for s in done)
        if failures and counts:
            said.append(f"{failures:g}/{iterations} decode failures")
        if corrupted and counts:
            said.append(f"{corrupted:g}/{iterations} updates corrupted")
        if said:
            out.append(f"{g.label}: " + ", ".join(said))
    return out
