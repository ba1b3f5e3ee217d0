"""Scenarios whose results were recorded before the config redesign (``digests.json``).

Each case is a list of overrides. ``BASE`` shrinks a run; ``FULL`` cases run as the
docs show them. ``tests/test_digests.py`` reruns every case and compares its
``model_digest`` (or, for timing-only runs, its simulated time) with the record.
"""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BASE = ["progress=false", "train.iterations=6", "trace.iterations=2"]
DATA = ["data=synthetic", "data.samples=1000"]

# commands the README and docs/ show, run as written (full length)
FULL: dict[str, list[str]] = {
    "default": [],
    "readme_draco_r3_n9": ["code=repetition", "code.r=3", "cluster.workers=9",
                           "adversary=reverse", "adversary.count=1"],
    "readme_draco_r3_n9_free": ["code=repetition", "code.r=3", "cluster.workers=9",
                                "adversary=none"],
    "readme_mean_breaks": ["code=none", "aggregator=mean", "adversary=reverse",
                           "adversary.count=1"],
    "readme_worst_case": ["cluster.workers=9", "adversary.count=2",
                          "adversary.placement=worst_case"],
    "readme_cyclic_s2": ["code=cyclic", "code.s=2", "cluster.workers=15",
                         "adversary=reverse", "adversary.count=2"],
    "readme_cyclic_s2_free": ["code=cyclic", "code.s=2", "cluster.workers=15",
                              "adversary=none"],
    "readme_cyclic_beyond": ["code=cyclic", "code.s=2", "cluster.workers=15",
                             "adversary=reverse", "adversary.count=3"],
}  # fmt: skip

# one run of every option of every group (shrunk)
OPTIONS: dict[str, list[str]] = {
    "code=none": ["code=none"],
    "code=repetition": ["code=repetition"],
    "code=cyclic": ["code=cyclic"],
    "aggregator=mean": ["code=none", "aggregator=mean"],
    "aggregator=median": ["code=none", "aggregator=median"],
    "aggregator=trimmed_mean": ["code=none", "aggregator=trimmed_mean"],
    "aggregator=geomed": ["code=none", "aggregator=geomed"],
    "aggregator=krum": ["code=none", "aggregator=krum", "aggregator.f=1"],
    "aggregator=multikrum": ["code=none", "aggregator=multikrum", "aggregator.f=1"],
    "aggregator=bulyan": ["code=none", "aggregator=bulyan", "aggregator.f=2"],
    "aggregator=centered_clip": ["code=none", "aggregator=centered_clip"],
    "aggregator.pre": ["code=none", "aggregator=krum", "aggregator.f=1",
                       "aggregator.pre=[nnm,bucketing]"],
    "adversary=mixed": ["code=none", "aggregator=median", "adversary=mixed"],
    "latency=trace": ["latency=trace", f"latency.path={EXAMPLES / 'times.csv'}"],
    "network=graph": ["network=graph", f"network.path={EXAMPLES / 'two_racks.edges'}",
                      "cluster.workers=6"],
    "model=mlp": ["model=mlp"],
    "model=fc_mnist": ["model=fc_mnist", "data=mnist_synthetic", "data.samples=1000",
                       "train.iterations=2"],
    "data=mnist1d": ["data=mnist1d"],
    "data=synthetic": ["data=synthetic"],
    "data=mnist_synthetic": ["data=mnist_synthetic", "data.samples=1000"],
    "timing_only": ["workload=timing_only", "cluster.workers=300", "train.iterations=5"],
    "timing_only_pareto": ["workload=timing_only", "latency=pareto", "latency.alpha=1.5",
                           "ps.wait=first_k", "ps.k=12", "train.iterations=5"],
}  # fmt: skip

ADVERSARIES = ["none", "reverse", "sign_flip", "constant", "gaussian", "nans", "infs",
               "collude", "alie", "ipm", "mimic", "anti_decoder", "label_flip", "crash",
               "delay"]  # fmt: skip
for _name in ADVERSARIES:
    OPTIONS[f"adversary={_name}"] = ["code=none", "aggregator=median", f"adversary={_name}"]
    OPTIONS[f"draco/adversary={_name}"] = [f"adversary={_name}", "adversary.count=1"]
for _name in ["constant", "shifted_exp", "pareto", "lognormal", "bimodal"]:
    OPTIONS[f"latency={_name}"] = [f"latency={_name}", "ps.wait=decodable"]
for _name in ["star", "two_tier"]:
    OPTIONS[f"network={_name}"] = [f"network={_name}"]
for _name in ["mean", "median", "krum", "geomed", "draco", "draco5"]:
    OPTIONS[f"defense={_name}"] = [f"defense={_name}", "cluster.workers=15"]
for _name in ["alie_line_search", "ipm_line_search", "min_max", "min_sum"]:
    OPTIONS[f"adversary={_name}"] = ["code=none", "aggregator=median", f"adversary={_name}"]
    OPTIONS[f"draco/adversary={_name}"] = [f"adversary={_name}", "adversary.count=1"]
for _scheme, _n in [("frc", 9), ("mols", 15), ("ramanujan", 15), ("random", 12)]:
    OPTIONS[f"code=assignment/{_scheme}"] = ["code=assignment", f"code.scheme={_scheme}",
                                             f"cluster.workers={_n}", "adversary=reverse",
                                             "adversary.count=2"]  # fmt: skip
OPTIONS["adversary.placement=max_distortion"] = [
    "code=assignment", "code.scheme=mols", "cluster.workers=15", "adversary=alie",
    "adversary.count=4", "adversary.placement=max_distortion"]  # fmt: skip
EXPERIMENTS = ["attack_matrix", "strongest_attack", "paper_fc", "paper_fc_small", "paper_fc_study",
               "lesson_1_one_liar", "lesson_2_robust_rules", "lesson_3_majority_vote",
               "lesson_4_cyclic_code", "lesson_5_stragglers", "lesson_6_strong_attacks",
               "lesson_7_sweeps"]  # fmt: skip
for _name in EXPERIMENTS:
    OPTIONS[f"experiment={_name}"] = [f"experiment={_name}", "train.iterations=3"]


def fake_mnist(root: Path) -> Path:
    """Four small IDX files in MNIST's format (deterministic contents) under ``root``."""
    import numpy as np

    rng = np.random.default_rng(7)
    root.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", 600), ("t10k", 200)):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 8, array.ndim]) + b"".join(
                int(n).to_bytes(4, "big") for n in array.shape
            )
            (root / f"{split}-{kind}-ubyte").write_bytes(header + array.tobytes())
    return root


def cases(mnist_root: Path | None = None) -> dict[str, list[str]]:
    """Every case name -> its overrides (BASE and DATA included where they apply)."""
    out = {name: ["progress=false", *o] for name, o in FULL.items()}
    for name, o in OPTIONS.items():
        data = [] if any(x.startswith(("data=", "experiment=", "model=fc")) for x in o) else DATA
        out[name] = [*BASE, *data, *o]
    if mnist_root is not None:
        out["data=mnist"] = [*BASE, "data=mnist", f"data.root={mnist_root}"]
    return out
