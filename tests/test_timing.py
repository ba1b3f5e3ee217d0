"""The clock against closed forms, the timing-only workload, the trace and the timeline."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import torch

from sim.messages import Delayed
from tests.conftest import Run

FAST_NET = ["network.bandwidth_bps=1e15", "network.latency_s=0", "ps.flops=1e30"]


def rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    with open(summary["_dir"] / "metrics.csv") as f:
        return list(csv.DictReader(f))


def harmonic(n: int) -> float:
    return sum(1.0 / i for i in range(1, n + 1))


class Silent:
    """Test strategy: adversaries never send (omission)."""

    def __call__(self, own: torch.Tensor, honest: Any, gen: torch.Generator) -> list[None]:
        return [None] * len(own)


class Late:
    """Test strategy: adversaries send their honest message, one second late."""

    def __call__(self, own: torch.Tensor, honest: Any, gen: torch.Generator) -> list[Delayed]:
        return [Delayed(m, 1.0) for m in own]


LATE = ["adversary=none", "adversary._target_=tests.test_timing.Late", "adversary.count=1"]
CONSTANT = ["latency=constant", "latency.seconds=0.01", "code=none", "cluster.workers=6"]


@pytest.mark.parametrize("workload", ["timing_only", "gradients"])
def test_a_delayed_message_arrives_late(run: Run, workload: str) -> None:
    base = [f"workload={workload}", *CONSTANT, *FAST_NET, "train.iterations=3"]
    on_time = rows(run(*base, "adversary=none"))
    late = rows(run(*base, *LATE))
    assert float(late[0]["iteration_time_s"]) == pytest.approx(
        float(on_time[0]["iteration_time_s"]) + 1.0
    )
    skip = rows(run(*base, *LATE, "ps.wait=first_k", "ps.k=5"))
    assert float(skip[0]["iteration_time_s"]) == pytest.approx(
        float(on_time[0]["iteration_time_s"])
    )
    assert skip[0]["received"] == "5"


@pytest.mark.parametrize("overhead", [0.0, 0.02])
def test_constant_times_add_up_by_hand(run: Run, overhead: float) -> None:
    n, r, d, seconds, bw, lat, flops = 6, 3, 1000, 0.01, 1e8, 1e-4, 1e9
    s = run(
        f"latency.overhead_s={overhead}",
        "workload=timing_only",
        f"cluster.workers={n}",
        f"code.r={r}",
        f"timing.d={d}",
        "latency=constant",
        f"latency.seconds={seconds}",
        f"network.bandwidth_bps={bw}",
        f"network.latency_s={lat}",
        f"ps.flops={flops}",
        "adversary=none",
        "train.iterations=3",
    )
    hold = 8 * 4 * d / bw  # model and message are both 4d bytes
    broadcast = n * hold + lat + hold + lat  # the last copy queues behind n-1 on the PS link
    compute = overhead + r * seconds  # a repetition worker computes r uncoded shares
    upload = hold + lat + hold + lat  # copies arrive one hold apart: nobody queues
    decode, aggregate = n * d / flops, (n // r) * d / flops  # vote over n, mean of n/r
    for row in rows(s):
        assert float(row["iteration_time_s"]) == pytest.approx(
            broadcast + compute + upload + decode + aggregate, rel=1e-12
        )
        assert float(row["decode_s"]) == pytest.approx(decode)
        assert float(row["aggregate_s"]) == pytest.approx(aggregate)
    assert s["sim_time_s"] == pytest.approx(3 * (broadcast + compute + upload + decode + aggregate))


def test_speed_factors_slow_one_worker(run: Run) -> None:
    slow = ["1.0"] * 5 + ["3.0"]
    s = run(
        "workload=timing_only",
        "cluster.workers=6",
        "code=none",
        "latency=constant",
        "latency.seconds=0.1",
        f"latency.speed_factors=[{','.join(slow)}]",
        "train.iterations=2",
        *FAST_NET,
    )
    assert float(rows(s)[0]["iteration_time_s"]) == pytest.approx(0.3)


def _mean_time(run: Run, n: int, wait: list[str], iterations: int) -> tuple[float, float]:
    s = run(
        "workload=timing_only",
        f"cluster.workers={n}",
        "code=none",
        "adversary=none",
        "latency=shifted_exp",
        "latency.shift_s=0.05",
        "latency.scale_s=0.02",
        f"train.iterations={iterations}",
        "timing.d=1",
        "trace.iterations=0",
        *FAST_NET,
        *wait,
    )
    times = [float(r["iteration_time_s"]) for r in rows(s)]
    mean = sum(times) / len(times)
    sd = math.sqrt(sum((t - mean) ** 2 for t in times) / (len(times) - 1))
    return mean, sd / math.sqrt(len(times))


def test_shifted_exponential_wait_all_is_shift_plus_scale_h_n(run: Run) -> None:
    mean, err = _mean_time(run, 10, ["ps.wait=all"], 4000)
    expected = 0.05 + 0.02 * harmonic(10)
    assert abs(mean - expected) < 4 * err, (mean, expected, err)
    assert err < 0.001  # the test can tell H_10 from H_9 (a 0.002 difference)


def test_shifted_exponential_first_k(run: Run) -> None:
    n, k = 10, 4
    mean, err = _mean_time(run, n, ["ps.wait=first_k", f"ps.k={k}"], 4000)
    expected = 0.05 + 0.02 * (harmonic(n) - harmonic(n - k))
    assert abs(mean - expected) < 4 * err, (mean, expected, err)


def test_timing_only_writes_every_output_and_says_what_it_cannot_know(run: Run) -> None:
    s = run("workload=timing_only", "train.iterations=5", "latency=shifted_exp")
    assert s["workload"] == "timing_only" and s["status"] == "completed"
    assert s["model_digest"] is None and s["final_accuracy"] is None
    assert s["corrupted_updates"] is None and s["guarantee_held"] is None
    assert s["parameters"] == 32 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10  # mlp, synthetic
    first = rows(s)[0]
    assert first["loss"] == first["accuracy"] == first["corrupted_updates"] == ""
    assert first["received"] == "15" and first["adversary_ranks"] != ""
    for name in ("metrics.csv", "summary.json", "trace.json", "timeline.png"):
        assert (s["_dir"] / name).stat().st_size > 0


def test_omission_leaves_erasures_in_timing_only(run: Run) -> None:
    s = run(
        "workload=timing_only",
        "code=none",
        "cluster.workers=8",
        "adversary=none",
        "adversary._target_=tests.test_timing.Silent",
        "adversary.count=2",
        "train.iterations=3",
    )
    assert {r["received"] for r in rows(s)} == {"6"}
    assert {r["adversaries"] for r in rows(s)} == {"2"}


def test_decodable_stops_before_the_stragglers(run: Run) -> None:
    common = [
        "workload=timing_only",
        "cluster.workers=9",
        "latency=shifted_exp",
        "train.iterations=50",
        "adversary=none",
    ]
    everyone = run(*common, "ps.wait=all")
    early = run(*common, "ps.wait=decodable")
    received = [int(r["received"]) for r in rows(early)]
    assert all(6 <= x < 9 for x in received)  # two of three per group suffice
    assert early["sim_time_s"] < everyone["sim_time_s"]


def test_deadline_cuts_the_wait(run: Run) -> None:
    s = run(
        "workload=timing_only",
        "code=none",
        "adversary=none",
        "latency=constant",
        "latency.seconds=0.01",
        "ps.wait=deadline",
        "ps.deadline_s=0.005",
        "train.iterations=2",
    )
    first = rows(s)[0]
    assert first["received"] == "0"
    assert float(first["iteration_time_s"]) == pytest.approx(0.005)


def test_timing_only_is_deterministic(run: Run) -> None:
    args = ["workload=timing_only", "latency=shifted_exp", "adversary.placement=random", "seed=5"]
    a, b = run(*args), run(*args)
    for name in ("metrics.csv", "trace.json"):
        assert (a["_dir"] / name).read_bytes() == (b["_dir"] / name).read_bytes()


def test_thousands_of_workers(run: Run) -> None:
    s = run("workload=timing_only", "cluster.workers=3000", "train.iterations=5", "timing.d=10000")
    assert s["iterations"] == 5 and {r["received"] for r in rows(s)} == {"3000"}


@pytest.mark.slow
def test_ten_thousand_workers(run: Run) -> None:
    s = run(
        "workload=timing_only",
        "code=none",
        "cluster.workers=10000",
        "train.iterations=20",
        "progress=false",
        small=False,
    )
    assert s["iterations"] == 20 and s["wall_time_s"] < 60


# ---------------------------------------------------------------- trace.json


def check_chrome_trace(path: Path) -> dict[str, Any]:
    """Every event has ph/ts/pid/tid; X events never overlap on one (pid, tid); every
    process and lane in use is named. Returns {process name: set of lane names}."""
    events = json.loads(path.read_text())["traceEvents"]
    assert events
    for ev in events:
        assert {"ph", "ts", "pid", "tid"} <= ev.keys(), ev
    procs = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    lanes = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["name"] == "thread_name"}
    by_lane: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for ev in events:
        if ev["ph"] == "X":
            assert ev["dur"] >= 0
            by_lane[ev["pid"], ev["tid"]].append((ev["ts"], ev["dur"]))
    for key, spans in by_lane.items():
        assert key[0] in procs and key in lanes, key
        spans.sort()
        for (t0, d0), (t1, _) in zip(spans, spans[1:], strict=False):
            assert t1 >= t0 + d0, (procs[key[0]], lanes[key], t0, d0, t1)
    named: dict[str, set[str]] = defaultdict(set)
    for pid, tid in by_lane:
        named[procs[pid]].add(lanes[pid, tid])
    return named


def test_trace_of_a_15_worker_repetition_run_is_a_valid_chrome_trace(run: Run) -> None:
    s = run(
        "code=repetition",
        "code.r=3",
        "cluster.workers=15",
        "latency=shifted_exp",
        "ps.wait=first_k",
        "ps.k=12",
        "network.bandwidth_bps=1e8",
        "train.iterations=6",
    )
    named = check_chrome_trace(s["_dir"] / "trace.json")
    assert named["ps"] == {"wait", "decode", "aggregate"}
    assert {f"w{i}" for i in range(15)} <= named.keys()
    assert {"downlink", "compute", "uplink"} <= set().union(*(named[f"w{i}"] for i in range(15)))
    assert {"ps->switch", "switch->ps", "switch->w0", "w0->switch"} <= named["network"]
    events = json.loads((s["_dir"] / "trace.json").read_text())["traceEvents"]
    assert any("cancelled" in e["name"] for e in events)  # first_k leaves three behind
    png = (s["_dir"] / "timeline.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_trace_stays_small_for_large_clusters(run: Run) -> None:
    s = run(
        "workload=timing_only",
        "cluster.workers=600",
        "train.iterations=10",
        "timing.d=100",
        "trace.max_spans=10000",
    )
    events = json.loads((s["_dir"] / "trace.json").read_text())["traceEvents"]
    iterations = {e["args"]["iteration"] for e in events if e["ph"] == "X"}
    assert iterations == {0, 1}  # 600 workers x 7 spans: two rounds fit in 10,000
    check_chrome_trace(s["_dir"] / "trace.json")


def test_shipped_example_files_run(run: Run) -> None:
    s = run(
        "workload=timing_only",
        "cluster.workers=6",
        "network=graph",
        "network.path=examples/two_racks.edges",
        "latency=trace",
        "latency.path=examples/times.csv",
        "train.iterations=5",
    )
    times = [float(r["iteration_time_s"]) for r in rows(s)]
    assert times[4] == pytest.approx(times[0])  # the 4-row file wraps around
    assert times[3] > times[0]  # its slow row


def test_a_malformed_time_file_stops_the_cli_with_one_line(tmp_path: Path) -> None:
    from tests.test_cli import sim

    bad = tmp_path / "times.csv"
    bad.write_text("0.1\n0.2\n0.x\n")
    p = sim("latency=trace", f"latency.path={bad}", f"hydra.run.dir={tmp_path / 'out'}")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == [
        f"error: latency.path={bad}: line 3: column 1: '0.x' is not a number"
    ]
