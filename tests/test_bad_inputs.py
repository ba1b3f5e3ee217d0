"""Every bad input in docs/bad_inputs.md, run through the real command line.

The table in the docs is rendered from :data:`CASES` (``python -m tests.test_bad_inputs``
rewrites it) and a test checks that the file matches, so the docs and the tests cannot
drift apart. Each case runs ``python -m sim`` in this process (same code path as the
shell, minus the interpreter start) and must exit with status 2, print exactly the
expected ``error:`` lines, no traceback, and start no run.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from sim.cli import cli
from tests.conftest import make_cfg, simulate

DOC = Path(__file__).resolve().parents[1] / "docs" / "bad_inputs.md"
BASE = ["data=synthetic", "progress=false", "train.iterations=3"]
MNIST = ["data=mnist", "data.root=TMP/mnist", "train.batch_size=10", "code=none"]
RUN = "RUN"  # stands for the run dir (hydra.run.dir) in the table
TMP = "TMP"  # stands for a scratch folder next to it (input files a case writes)


def earlier_run(*extra: str) -> Callable[[Path], None]:
    def setup(run_dir: Path) -> None:
        simulate(make_cfg(*BASE, "checkpoint.every=1", *extra, small=False), run_dir)

    return setup


def garbage_checkpoint(run_dir: Path) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "checkpoint.pt").write_bytes(b"\x00 this is not a checkpoint")


def run_without_metrics(run_dir: Path) -> None:
    earlier_run()(run_dir)
    (run_dir / "metrics.csv").unlink()


def idx(path: Path, array: np.ndarray) -> None:
    """An IDX file (MNIST's format) of unsigned bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def mnist_files(
    train: int = 20, test: int = 10, labels: int = 20, side: int = 28, top_label: int = 9
) -> Callable[[Path], None]:
    """MNIST's four IDX files in TMP/mnist, with the given sizes and largest label."""

    def setup(run_dir: Path) -> None:
        root = run_dir.parent / "mnist"
        root.mkdir(parents=True, exist_ok=True)
        ys = np.arange(max(train, labels, test)) % (top_label + 1)
        idx(root / "train-images-idx3-ubyte", np.zeros((train, 28, 28)))
        idx(root / "train-labels-idx1-ubyte", ys[:labels])
        idx(root / "t10k-images-idx3-ubyte", np.zeros((test, side, side)))
        idx(root / "t10k-labels-idx1-ubyte", ys[:test])

    return setup


def mnist_file_is_a_folder(run_dir: Path) -> None:
    mnist_files()(run_dir)
    labels = run_dir.parent / "mnist" / "t10k-labels-idx1-ubyte"
    labels.unlink()
    labels.mkdir()


def binary_config(run_dir: Path) -> None:
    folder = run_dir.parent / "conf" / "aggregator"
    folder.mkdir(parents=True)
    (folder / "mine.yaml").write_bytes(bytes(range(256)) * 8)


def a_file(run_dir: Path) -> None:
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    run_dir.write_text("not a folder\n")


@dataclass
class Case:
    what: str  # the mistake, in words
    args: list[str]  # what the user typed (BASE and hydra.run.dir=RUN are added)
    says: list[str]  # the exact stderr lines; RUN stands for the run dir, TMP for its folder
    setup: Callable[[Path], None] | None = field(default=None, repr=False)
    early: bool = True  # caught before Hydra makes the run dir (else while building)
    env: dict[str, str] = field(default_factory=dict)  # environment variables set


CASES = [
    Case(
        "misspelt key",
        ["cluster.wokers=9"],
        ["error: cluster.wokers: no such key (did you mean cluster.workers?); valid keys: workers"],
    ),
    Case(
        "misspelt key inside a group option",
        ["code.rr=5"],
        ["error: code.rr: no such key (did you mean code.r?); valid keys: r, tolerance"],
    ),
    Case(
        "misspelt option",
        ["code=repitition"],
        [
            "error: code=repitition: no such option (did you mean repetition?); "
            "valid options: assignment, cyclic, none, repetition"
        ],
    ),
    Case(
        "option name Hydra reads as a number (nan/inf strategies are nans/infs)",
        ["adversary=nan"],
        [
            "error: adversary=nan: Hydra reads 'nan' as a number, not an option name "
            "(did you mean nans?); valid options: alie, alie_line_search, anti_decoder, "
            "collude, constant, crash, delay, gaussian, infs, ipm, ipm_line_search, "
            "label_flip, mimic, min_max, min_sum, mixed, nans, none, reverse, sign_flip"
        ],
    ),
    Case(
        "not an integer",
        ["cluster.workers=nine"],
        ["error: cluster.workers=nine: 'nine' is not an integer"],
    ),
    Case("not a number", ["train.lr=fast"], ["error: train.lr=fast: 'fast' is not a number"]),
    Case(
        "invalid choice",
        ["ps.wait=sometimes"],
        ["error: ps.wait=sometimes: valid values: all, first_k, deadline, decodable"],
    ),
    Case("not a boolean", ["progress=maybe"], ["error: progress=maybe: valid values: true, false"]),
    Case(
        "list entry of the wrong type",
        ["adversary.ids=[a]"],
        ["error: adversary.ids=[a]: 'a' is not an integer"],
    ),
    Case(
        "override without a value",
        ["code"],
        ["error: cannot parse 'code': missing EQUAL at '<EOF>' (write key=value)"],
    ),
    Case(
        "sweep without -m",
        ["cluster.workers=3,6"],
        [
            "error: Ambiguous value for argument 'cluster.workers=3,6': add -m to sweep over "
            "it, or write key=[a,b] for a list"
        ],
    ),
    Case(
        "group removed",
        ["~code"],
        [
            "error: code: no value given (set code=<option>; options: none, repetition, "
            "cyclic, assignment)"
        ],
    ),
    Case(
        "broken interpolation",
        ["seed=${nope}"],
        ["error: seed: Interpolation key 'nope' not found"],
    ),
    Case("no workers", ["cluster.workers=0"], ["error: cluster.workers=0: must be >= 1"]),
    Case("negative seed", ["seed=-1"], ["error: seed=-1: must be >= 0"]),
    Case(
        "zero learning rate",
        ["train.lr=0"],
        ["error: train.lr=0.0: must be a positive finite number"],
    ),
    Case(
        "NaN learning rate", ["train.lr=nan"], ["error: train.lr=nan: NaN is not a valid setting"]
    ),
    Case(
        "infinite learning rate",
        ["train.lr=inf"],
        ["error: train.lr=inf: must be a positive finite number"],
    ),
    Case("no iterations", ["train.iterations=0"], ["error: train.iterations=0: must be >= 1"]),
    Case(
        "more adversaries than workers",
        ["adversary.count=16"],
        ["error: adversary.count=16 must be between 0 and cluster.workers=15"],
    ),
    Case(
        "negative adversary count",
        ["adversary.count=-1"],
        ["error: adversary.count=-1: must be >= 0"],
    ),
    Case(
        "adversary rank out of range",
        ["adversary.ids=[0,15]"],
        ["error: adversary.ids=[0,15]: ranks [15] are not in [0, 15) (n=15)"],
    ),
    Case(
        "repeated adversary rank",
        ["adversary.ids=[2,2]"],
        ["error: adversary.ids=[2,2]: ranks must be distinct"],
    ),
    Case(
        "zero bandwidth",
        ["network.bandwidth_bps=0"],
        ["error: network.bandwidth_bps=0.0: must be a positive finite number"],
    ),
    Case(
        "negative latency",
        ["network.latency_s=-1e-3"],
        ["error: network.latency_s=-0.001: must be a finite number >= 0"],
    ),
    Case(
        "speed factors for the wrong number of workers",
        ["latency.speed_factors=[1,2]"],
        [
            "error: latency.speed_factors has 2 entries, cluster.workers=15: give one factor "
            "per worker or none"
        ],
    ),
    Case(
        "non-positive speed factor",
        ["cluster.workers=3", "code=none", "latency.speed_factors=[1,0,1]"],
        [
            "error: latency.speed_factors=[1.0,0.0,1.0]: every entry must be a positive "
            "finite number"
        ],
    ),
    Case(
        "first k larger than n",
        ["ps.wait=first_k", "ps.k=99"],
        ["error: ps.k=99 must be between 1 and cluster.workers=15 (0 = n)"],
    ),
    Case(
        "zero PS speed", ["ps.flops=0"], ["error: ps.flops=0.0: must be a positive finite number"]
    ),
    Case(
        "negative checkpoint period",
        ["checkpoint.every=-5"],
        ["error: checkpoint.every=-5: must be >= 0"],
    ),
    Case("repetition factor 0", ["code.r=0"], ["error: code.r=0: must be >= 1"]),
    Case(
        "negative vote tolerance",
        ["code.tolerance=-1"],
        ["error: code.tolerance=-1.0: must be a finite number >= 0"],
    ),
    Case(
        "empty hidden layer",
        ["model.hidden=[16,0]"],
        ["error: model.hidden=[16,0]: every entry must be >= 1"],
    ),
    Case("one class", ["data.classes=1"], ["error: data.classes=1: must be >= 2"]),
    Case(
        "several problems at once: one line each",
        ["cluster.workers=0", "train.lr=-1", "ps.flops=nan"],
        [
            "error: cluster.workers=0: must be >= 1",
            "error: train.lr=-1.0: must be a positive finite number",
            "error: ps.flops=nan: NaN is not a valid setting",
        ],
    ),
    Case(
        "misspelt name of an optional group's option",
        ["experiment=lesson_1_one_lair"],
        [
            "error: experiment=lesson_1_one_lair: no such option (did you mean "
            "lesson_1_one_liar?); valid options: attack_matrix, lesson_1_one_liar, "
            "lesson_2_robust_rules, lesson_3_majority_vote, lesson_4_cyclic_code, "
            "lesson_5_stragglers, lesson_6_strong_attacks, lesson_7_sweeps, paper_fc, "
            "paper_fc_small, paper_fc_study, strongest_attack"
        ],
    ),
    Case(
        "unknown defense",
        ["defense=medain"],
        [
            "error: defense=medain: no such option (did you mean median?); valid options: "
            "draco, draco5, geomed, geomed_paper, krum, mean, median"
        ],
    ),
    Case(
        "misspelt key added with +",
        ["+train.lrr=0.1"],
        [
            "error: train.lrr: no such key (did you mean train.lr?); valid keys: iterations, "
            "batch_size, lr, momentum, weight_decay, worker_momentum, eval_every, oracle"
        ],
    ),
    Case(
        "misspelt section added with +",
        ["+trian.lr=0.1"],
        [
            "error: trian: no such key (did you mean train?); valid keys: seed, device, "
            "workload, progress, cluster, train, ps, code, aggregator, adversary, latency, "
            "network, model, data, threads, timing, trace, checkpoint, outputs, resume"
        ],
    ),
    Case(
        "a defense and a contradicting code",
        ["defense=mean", "code=repetition"],
        [
            "error: defense=mean sets code=none, but code=repetition was chosen too: keep one "
            "of them (a defense names a code and a rule together)"
        ],
    ),
    Case(
        "a defense's code setting on another code",
        ["code=cyclic", "defense=draco5"],
        [
            "error: defense=draco5 sets code.r, which code=cyclic does not have: keep one of "
            "them (a defense names a code and a rule together)"
        ],
    ),
    Case(
        "an experiment's code setting on another code",
        ["experiment=lesson_4_cyclic_code", "code=repetition"],
        [
            "error: experiment=lesson_4_cyclic_code sets code.s, which code=repetition does not "
            "have: experiment=lesson_4_cyclic_code is built on its own code option: change "
            "that option's settings, not the option, or leave out experiment="
        ],
    ),
    Case(
        "a typo in a sweep: the same line, prefixed by its job",
        ["-m", "adversary=reverse,nan"],
        [
            "error: job 1 (data=synthetic progress=False train.iterations=3 adversary=nan): "
            "adversary=nan: Hydra reads 'nan' as a number, not an option "
            "name (did you mean nans?); valid options: alie, alie_line_search, anti_decoder, "
            "collude, constant, crash, delay, gaussian, infs, ipm, ipm_line_search, label_flip, "
            "mimic, min_max, min_sum, mixed, nans, none, reverse, sign_flip"
        ],
    ),
    Case(
        "empty run dir",
        ["hydra.run.dir="],
        ["error: hydra.run.dir is empty: give a directory for the run's outputs"],
    ),
    Case(
        "empty sweep dir",
        ["-m", "seed=0,1", "hydra.sweep.dir="],
        ["error: hydra.sweep.dir is empty: give a directory for the run's outputs"],
    ),
    Case(
        "run dir that is a file",
        [],
        ["error: hydra.run.dir=RUN: is a file, not a directory"],
        setup=a_file,
    ),
    Case(
        "run dir inside a file",
        ["hydra.run.dir=RUN/inside"],
        ["error: hydra.run.dir=RUN/inside: cannot be made: RUN is a file, not a directory"],
        setup=a_file,
    ),
    Case(
        "config folder that is a file",
        ["--config-dir", "RUN"],
        ["error: --config-dir RUN: is a file, not a directory"],
        setup=a_file,
    ),
    Case(
        "binary file among the configs",
        ["--config-dir", "TMP/conf", "aggregator=mine"],
        ["error: TMP/conf/aggregator/mine.yaml: not UTF-8 text (a binary file?)"],
        setup=binary_config,
    ),
    Case(
        "label flipping without data",
        ["workload=timing_only", "adversary=label_flip"],
        [
            "error: adversary=label_flip trains on flipped labels, but workload=timing_only "
            "has no data and no gradients: use workload=gradients"
        ],
    ),
    Case(
        "a parameter out of what the run allows (it would be clamped)",
        ["adversary=mimic", "adversary.target=100"],
        [
            "error: adversary.target=100: there are 12 honest workers (cluster.workers=15 "
            "minus 3 adversaries), so the target must be in 0..11"
        ],
    ),
    Case(
        "more memory than there is",
        ["workload=timing_only", "code=cyclic", "cluster.workers=20000"],
        [
            "error: this run needs about 36.4 GiB of memory (code and symbolic messages 35.8 "
            "GiB, interpreter 0.6 GiB, trace 0.0 GiB) but 16.0 GiB is available: use fewer "
            "workers (cluster.workers=20000)"
        ],
        env={"DRACO_SIM_MEMORY_BYTES": str(16 * 2**30)},
    ),
    Case(
        "MNIST labels outside the ten classes",
        MNIST,
        [
            "error: data.root=TMP/mnist: train labels span 0..11, outside the 10 classes 0..9",
        ],
        setup=mnist_files(top_label=11),
        early=False,
    ),
    Case(
        "MNIST test images of another size",
        MNIST,
        ["error: data.root=TMP/mnist: train samples are 28x28 but test samples 32x32"],
        setup=mnist_files(side=32),
        early=False,
    ),
    Case(
        "MNIST images and labels of different lengths",
        MNIST,
        ["error: data.root=TMP/mnist: 20 train samples but 15 train labels"],
        setup=mnist_files(labels=15),
        early=False,
    ),
    Case(
        "MNIST file that is a folder",
        MNIST,
        ["error: data.root=TMP/mnist/t10k-labels-idx1-ubyte: is a directory, not a file"],
        setup=mnist_file_is_a_folder,
        early=False,
    ),
    Case(
        "n not a multiple of r",
        ["cluster.workers=10"],
        [
            "error: cluster.workers=10 is not a multiple of code.r=3: repetition groups need "
            "n % r == 0 (for example cluster.workers=12)"
        ],
        early=False,
    ),
    Case(
        "fewer samples per iteration than data parts",
        ["train.batch_size=4"],
        [
            "error: train.batch_size=4 is smaller than the 5 data parts per iteration: every "
            "part needs at least one sample"
        ],
        early=False,
    ),
    Case(
        "batch larger than the training set",
        ["train.batch_size=5000"],
        [
            "error: train.batch_size=5000 exceeds the 3200 training samples (lower it, or raise "
            "data.samples)"
        ],
        early=False,
    ),
    Case(
        "an image model on vector data",
        ["model=lenet"],
        [
            "error: model=lenet needs image data, samples of shape (channels, height, width); "
            "the data set gives samples of shape (32,) (use data=mnist_synthetic, mnist, "
            "cifar10_synthetic or cifar10, or model=mlp)"
        ],
        early=False,
    ),
    Case(
        "CIFAR-10 not on disk",
        ["data=cifar10", "data.root=/no/such/dir"],
        ["error: data.root=/no/such/dir is not a directory holding CIFAR-10's python batches"],
        early=False,
    ),
    Case(
        "momentum of 1 or more",
        ["train.worker_momentum=1"],
        ["error: train.worker_momentum=1.0: must be in [0, 1)"],
    ),
    Case(
        "resume without a checkpoint",
        ["resume=true"],
        [
            "error: resume=RUN: no checkpoint.pt in this run dir: resume needs the "
            "hydra.run.dir of a run that wrote checkpoints (checkpoint.every=K) or was "
            "interrupted"
        ],
        early=False,
    ),
    Case(
        "resume from a damaged checkpoint file",
        ["resume=true"],
        ["error: resume=RUN/checkpoint.pt: not a readable checkpoint (UnpicklingError)"],
        setup=garbage_checkpoint,
        early=False,
    ),
    Case(
        "resume with other settings",
        ["resume=true", "train.lr=0.1"],
        [
            "error: resume=RUN/checkpoint.pt: the checkpoint was made with other settings: "
            "train.lr=0.5 (now 0.1)"
        ],
        setup=earlier_run(),
        early=False,
    ),
    Case(
        "resume after metrics.csv was deleted",
        ["resume=true"],
        ["error: resume=RUN/metrics.csv: missing: cannot continue its rows"],
        setup=run_without_metrics,
        early=False,
    ),
]


def _listing(path: Path) -> list[str] | None:
    """What is in the run dir (None: there is no such folder)."""
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else None


@pytest.mark.parametrize("case", CASES, ids=[c.what for c in CASES])
def test_bad_input_gets_one_clear_line_per_problem(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    if case.setup is not None:
        case.setup(run_dir)
    before = _listing(run_dir)
    places = {RUN: str(run_dir), TMP: str(tmp_path)}
    args = [a.replace(RUN, places[RUN]).replace(TMP, places[TMP]) for a in case.args]
    capsys.readouterr()
    flags = 0  # flags come first, as typed: -m, --config-dir DIR
    while flags < len(args) and args[flags].startswith("-"):
        flags += 2 if args[flags] == "--config-dir" else 1
    given = any(a.startswith("hydra.run.dir=") for a in args)
    run = [] if given else [f"hydra.run.dir={run_dir}"]
    status = cli([*args[:flags], *BASE, *args[flags:], *run])
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    assert err.replace(str(run_dir), RUN).replace(str(tmp_path), TMP).splitlines() == case.says
    after = _listing(run_dir)
    assert "summary.json" not in set(after or []) - set(before or [])  # no run happened
    if case.early:
        assert after == before  # caught before Hydra made or touched a run dir


# ---------------------------------------------------------------- the docs table

BEGIN, END = "<!-- cases: begin -->", "<!-- cases: end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    lines = [
        "| # | bad input | command line (`python -m sim ...`) | what the user sees (stderr) "
        "| caught |",
        "|---|---|---|---|---|",
    ]
    for i, c in enumerate(CASES, 1):
        said = "<br>".join(f"`{_cell(s)}`" for s in c.says)
        when = "before the run dir exists" if c.early else "while building the run"
        env = "".join(f"{k}={v} " for k, v in c.env.items())
        typed = f"{env}... {' '.join(c.args)}" if env else " ".join(c.args)
        lines.append(f"| {i} | {c.what} | `{_cell(typed)}` | {said} | {when} |")
    return "\n".join(lines)


def test_the_docs_table_lists_exactly_these_cases() -> None:
    text = DOC.read_text()
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == render(), "run `python -m tests.test_bad_inputs` to refresh docs/bad_inputs.md"
    assert len(CASES) >= 20


if __name__ == "__main__":
    head, rest = DOC.read_text().split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{BEGIN}\n{render()}\n{END}{tail}")
    print(f"wrote {len(CASES)} cases to {DOC}", file=sys.stderr)


def readme_sessions() -> list[tuple[list[str], list[str]]]:
    """(args, printed lines) of every ``$ python -m sim`` example in the README's text blocks."""
    text = (DOC.parents[1] / "README.md").read_text()
    sessions: list[tuple[list[str], list[str]]] = []
    for block in text.split("```text\n")[1:]:
        for line in block.split("```", 1)[0].splitlines():
            if line.startswith("$ python -m sim"):
                sessions.append((line.split()[4:], []))
            elif sessions:
                sessions[-1][1].append(line)
    return sessions


def test_the_readme_error_examples_are_what_the_cli_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions = readme_sessions()
    assert sessions
    for args, says in sessions:
        capsys.readouterr()
        assert cli([*args, f"hydra.run.dir={tmp_path}"]) == 2
        assert capsys.readouterr().err.splitlines() == says
