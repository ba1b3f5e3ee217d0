"""What one simulated iteration costs, against one plain PyTorch training step.

In one process, interleaved round by round (the machine is shared and noisy; medians
are reported), with the paper's MNIST network (FC 784-800-500-10) on MNIST-shaped
data and the same global batch:

  (a) a plain PyTorch SGD loop: sample a batch, forward, backward, step, read the loss;
  (b) the simulator, ``code=repetition code.r=3 cluster.workers=45``;
  (c) the simulator, ``code=cyclic code.s=1 cluster.workers=45``;
  (d) the naive simulator: (b) with ``train.oracle=reference`` (every worker computes
      its own gradient in a Python loop, the PS averages materialized vectors).

and with LeNet (``model=lenet``, 431,080 parameters) on the same MNIST-shaped images:

  (e) a plain PyTorch SGD loop of LeNet, as (a);
  (f) the simulator, ``model=lenet code=repetition code.r=3 cluster.workers=45``;
  (g) the simulator, ``model=lenet code=none aggregator=median cluster.workers=45``:
      the median needs all 45 part gradients, formed every iteration.

Both sides evaluate the test set once, after the last iteration. The simulator runs
through the same build/World code as ``python -m sim``. (b), (c), (d), (f) and (g) have
no adversary, like (a) and (e); (b+) is (b) with the scenario's default reverse-gradient
adversary, whose own part gradient is real extra work. The last lines are the ratios.

    python benchmarks/overhead.py [--iterations 10] [--rounds 7] [--device cpu]
        [--models fc,lenet]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from omegaconf import DictConfig  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from benchmarks.common import make_cfg, time_simulation  # noqa: E402
from sim.build import device, make  # noqa: E402
from sim.training.datasets import Dataset  # noqa: E402
from sim.training.models import MLP, LeNet  # noqa: E402

MODELS = {
    "fc": lambda data: MLP(data.features, data.classes, [800, 500]),
    "lenet": lambda data: LeNet(data.shape, data.classes),
}


def plain_loop(data: Dataset, batch: int, iterations: int, lr: float, model: str = "fc") -> float:
    """Seconds for ``iterations`` SGD steps of a freshly made model (FC 784-800-500-10
    or LeNet) on image-shaped batches."""
    torch.manual_seed(0)
    net = MODELS[model](data).to(data.x_train.device)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    x_train, x_test = data.images(data.x_train), data.images(data.x_test)
    start = time.perf_counter()
    for _ in range(iterations):
        idx = torch.randperm(len(data.y_train), generator=gen)[:batch].to(data.x_train.device)
        loss = F.cross_entropy(net(x_train[idx]), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        float(loss.detach())
    with torch.no_grad():
        out = net(x_test)
        (
            float(F.cross_entropy(out, data.y_test)),
            float((out.argmax(1) == data.y_test).float().mean()),
        )
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--batch", type=int, default=1440)
    ap.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--naive-iterations", type=int, default=3, help="it is slow: fewer")
    ap.add_argument("--models", default="fc,lenet", help="which cases: fc, lenet or both")
    args = ap.parse_args()
    models = set(args.models.split(","))
    if args.threads:
        torch.set_num_threads(args.threads)
    it = args.iterations
    common = [
        "data=mnist_synthetic",
        f"train.batch_size={args.batch}",
        f"train.iterations={it}",
        f"train.eval_every={it}",
        "progress=false",
        f"device={args.device}",
        "cluster.workers=45",
    ]
    fc = [*common, "model=fc_mnist"]
    lenet = [*common, "model=lenet", "adversary=none"]
    cases: dict[str, DictConfig] = {}
    if "fc" in models:
        cases["b"] = make_cfg(*fc, "code=repetition", "code.r=3", "adversary=none")
        cases["b+"] = make_cfg(*fc, "code=repetition", "code.r=3")  # the scenario's adversary
        cases["d"] = make_cfg(
            *fc,
            "code=repetition",
            "code.r=3",
            "train.oracle=reference",
            "adversary=none",
            f"train.iterations={args.naive_iterations}",
        )
        cases["c"] = make_cfg(*fc, "code=cyclic", "code.s=1", "adversary=none")
    if "lenet" in models:
        cases["f"] = make_cfg(*lenet, "code=repetition", "code.r=3")
        cases["g"] = make_cfg(*lenet, "code=none", "aggregator=median")
    cfg = make_cfg(*fc)
    dev = device(cfg.device)
    data = make("data", cfg.data).to(dev)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}; "
        f"MNIST-shaped data, global batch {args.batch}, {it} iterations x {args.rounds} rounds"
    )
    plain = {"a": "fc"} if "fc" in models else {}
    plain |= {"e": "lenet"} if "lenet" in models else {}
    times: dict[str, list[float]] = {k: [] for k in [*plain, *cases]}
    for r in range(args.rounds):
        for key, model in plain.items():
            times[key].append(plain_loop(data, args.batch, it, cfg.train.lr, model) / it)
        for key, case in cases.items():
            seconds, summary = time_simulation(case)
            times[key].append(seconds / summary.iterations)
        row = "  ".join(f"{k}={v[-1] * 1e3:7.1f}ms" for k, v in times.items())
        print(f"round {r}: {row}", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    names = {
        "a": "plain PyTorch SGD step, FC 784-800-500-10",
        "b": "simulator, FC, repetition r=3, n=45, no adversary",
        "b+": "simulator, as (b) with the default reverse-gradient adversary",
        "c": "simulator, FC, cyclic s=1, n=45, no adversary",
        "d": "naive per-worker loop, FC, repetition r=3, n=45",
        "e": "plain PyTorch SGD step, LeNet",
        "f": "simulator, LeNet, repetition r=3, n=45, no adversary",
        "g": "simulator, LeNet, code=none aggregator=median, n=45 (all 45 parts)",
    }
    for k in med:
        print(f"({k}) {names[k]}: median {med[k] * 1e3:.1f} ms per iteration")

    def ratio(key: str, base: str) -> float:
        """Median over rounds of the paired ratio: each round's (key) over its own (base)."""
        return statistics.median(x / a for x, a in zip(times[key], times[base], strict=True))

    print("ratios: medians over rounds of each round's time / that round's plain step")
    if "fc" in models:
        print(f"(b+)/(a) = {ratio('b+', 'a'):.3f}  (the adversary computes its own part)")
        print(f"(b)/(a) = {ratio('b', 'a'):.3f}")
        print(f"(c)/(a) = {ratio('c', 'a'):.3f}")
        print(f"naive (d)/(a) = {ratio('d', 'a'):.3f}")
    if "lenet" in models:
        print(f"LeNet DRACO r=3 (f)/(e) = {ratio('f', 'e'):.3f}  (target <= 1.25)")
        print(f"LeNet median over 45 parts (g)/(e) = {ratio('g', 'e'):.3f}  (target <= 2)")


if __name__ == "__main__":
    main()
