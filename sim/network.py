"""The network: a networkx graph whose links carry one transfer at a time per direction.

A message crosses its shortest path (fewest hops) from the PS to a worker or back, hop
by hop (store and forward). On each hop it waits until the link's direction is free,
holds it for ``8 * size / bandwidth`` seconds, then propagates for the link's latency.
Transfers that want a busy link direction are served first come, first served (ties in
rank order): a link is a single FIFO server, so the PS's link is a real bottleneck
when ``n * d`` is large.

One synchronous round moves two waves of messages: the model from the PS to every
worker (unicast: ``n`` copies cross the PS's link) and each worker's message back.
The paths form a tree rooted at the PS, so within a wave the links can be served in
order of their distance from the PS, and every transfer's times follow from the FIFO
recursion ``start_k = max(arrival_k, start_{k-1} + hold_{k-1})`` per link — the same
times a SimPy process per transfer holding a ``simpy.Resource`` per link direction
would produce (``tests/test_network.py`` checks that against such a simulation), at
a fraction of the cost. Transfers still under way when the PS stops waiting are
cancelled: the next round starts with every link free.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from sim.config.errors import ConfigError
from sim.config.inputs import checked, read_bytes, read_text
from sim.config.ranges import AtLeastOne, Positive, Seconds

PS = "ps"
Node = str


def worker_node(rank: int) -> Node:
    return f"w{rank}"


def link_problem(bandwidth_bps: float, latency_s: float) -> str | None:
    """What is wrong with a link's numbers, or None."""
    if not 0 < bandwidth_bps < math.inf:
        return f"bandwidth_bps={bandwidth_bps} must be a positive number"
    if not 0 <= latency_s < math.inf:
        return f"latency_s={latency_s} must be a finite number >= 0"
    return None


@dataclass
class Transfers:
    """Link services of one hop column of a wave: message ``rank[i]`` held ``link[i]``
    during ``[start[i], end[i])`` (the trace draws these)."""

    what: str  # "model" (broadcast) or "message" (gather)
    link: np.ndarray  # (m,) link-direction ids
    rank: np.ndarray  # (m,) the worker each message belongs to
    start: np.ndarray  # (m,) seconds
    end: np.ndarray  # (m,) seconds


def fifo(link: np.ndarray, arrival: np.ndarray, hold: np.ndarray) -> np.ndarray:
    """Service start of each transfer when every link serves its transfers one at a time,
    first come first served, ties in the order given. Shapes (m,) -> (m,).

    Per link, ``start_k = max(arrival_k, end_{k-1})`` with ``end_k = start_k + hold_k``;
    unrolled, ``end_k = H_k + max_{j<=k}(arrival_j - H_{j-1})`` with ``H`` the running
    sum of holds, which numpy evaluates in one pass per busy link.
    """
    order = np.lexsort((np.arange(len(link)), arrival, link))
    ln, arr, hd = link[order], arrival[order], hold[order]
    start = arr.copy()
    bounds = np.flatnonzero(np.diff(ln)) + 1
    firsts, lasts = np.r_[0, bounds], np.r_[bounds, len(ln)]
    busy = lasts - firsts > 1
    for a, b in zip(firsts[busy].tolist(), lasts[busy].tolist(), strict=True):
        h = np.cumsum(hd[a:b])
        before = h - hd[a:b]  # H_{k-1}
        start[a:b] = np.maximum(before + np.maximum.accumulate(arr[a:b] - before), arr[a:b])
    out = np.empty_like(start)
    out[order] = start
    return out


class Network:
    """Links, the PS's shortest-path tree to every worker, and the two waves of a round."""

    def __init__(self, graph: nx.Graph, workers: int) -> None:
        validate(graph, workers, "network")
        self.graph, self.workers = graph, workers
        self.links: list[tuple[Node, Node]] = []
        index: dict[tuple[Node, Node], int] = {}
        bandwidth, latency = [], []
        for u, v, attrs in graph.edges(data=True):
            for hop in ((u, v), (v, u)):
                index[hop] = len(self.links)
                self.links.append(hop)
                bandwidth.append(float(attrs["bandwidth_bps"]))
                latency.append(float(attrs["latency_s"]))
        self.bandwidth_bps = np.asarray(bandwidth)
        self.latency_s = np.asarray(latency)
        tree = nx.single_source_shortest_path(graph, PS)
        paths = [tree[worker_node(i)] for i in range(workers)]
        depth = max(len(p) - 1 for p in paths)
        # Downward hops left-aligned, upward hops right-aligned: column c then holds only
        # links at one distance from the PS, and columns are served in order.
        self.down = np.full((workers, depth), -1, dtype=np.int64)
        self.up = np.full((workers, depth), -1, dtype=np.int64)
        for i, p in enumerate(paths):
            hops = list(zip(p[:-1], p[1:], strict=True))
            self.down[i, : len(hops)] = [index[h] for h in hops]
            self.up[i, depth - len(hops) :] = [index[(b, a)] for a, b in reversed(hops)]

    def link_name(self, link: int) -> str:
        u, v = self.links[link]
        return f"{u}->{v}"

    def broadcast(
        self, start_s: float, size_bytes: int, record: bool = False
    ) -> tuple[np.ndarray, list[Transfers]]:
        """The model from the PS to every worker, all sent at ``start_s`` (copies queue on
        the PS's link in rank order). Returns (arrival at each worker (n,), transfers)."""
        ready = np.full(self.workers, start_s)
        return self.wave("model", self.down, ready, size_bytes, record)

    def gather(
        self, ready_s: np.ndarray, size_bytes: int, record: bool = False
    ) -> tuple[np.ndarray, list[Transfers]]:
        """Each worker's message to the PS, sent at ``ready_s`` (inf: sends nothing).
        Returns (arrival at the PS (n,), inf where nothing was sent; transfers)."""
        return self.wave("message", self.up, ready_s, size_bytes, record)

    def wave(
        self, what: str, hops: np.ndarray, ready_s: np.ndarray, size_bytes: int, record: bool
    ) -> tuple[np.ndarray, list[Transfers]]:
        t = np.array(ready_s, dtype=float)
        transfers: list[Transfers] = []
        bits = 8.0 * size_bytes
        for column in hops.T:
            rank = np.flatnonzero((column >= 0) & np.isfinite(t))
            if not rank.size:
                continue
            link = column[rank]
            hold = bits / self.bandwidth_bps[link]
            start = fifo(link, t[rank], hold)
            t[rank] = start + hold + self.latency_s[link]
            if record:
                transfers.append(Transfers(what, link, rank, start, start + hold))
        return t, transfers


# ---------------------------------------------------------------- topologies


def star(workers: int, bandwidth_bps: Positive = 10e9, latency_s: Seconds = 50e-6) -> nx.Graph:
    """PS and every worker on one switch; every link has ``bandwidth_bps`` and ``latency_s``."""
    g = nx.Graph()
    g.add_edge(PS, "switch", bandwidth_bps=bandwidth_bps, latency_s=latency_s)
    for i in range(workers):
        g.add_edge(worker_node(i), "switch", bandwidth_bps=bandwidth_bps, latency_s=latency_s)
    return g


def two_tier(
    workers: int,
    bandwidth_bps: Positive = 10e9,
    latency_s: Seconds = 50e-6,
    workers_per_rack: AtLeastOne = 8,
    oversubscription: Positive = 1.0,
) -> nx.Graph:
    """Racks of ``workers_per_rack`` workers under top-of-rack switches ``rack0..``, whose
    uplinks meet the PS at a ``core`` switch.

    Worker and PS links have ``bandwidth_bps``; a rack's uplink has
    ``workers_per_rack * bandwidth_bps / oversubscription`` (1: full bisection; 4: a
    rack's workers share a quarter of what they could send). Every link has ``latency_s``.
    """
    uplink_bps = workers_per_rack * bandwidth_bps / oversubscription
    g = nx.Graph()
    g.add_edge(PS, "core", bandwidth_bps=bandwidth_bps, latency_s=latency_s)
    for rack in range(-(-workers // workers_per_rack)):
        g.add_edge(f"rack{rack}", "core", bandwidth_bps=uplink_bps, latency_s=latency_s)
    for i in range(workers):
        tor = f"rack{i // workers_per_rack}"
        g.add_edge(worker_node(i), tor, bandwidth_bps=bandwidth_bps, latency_s=latency_s)
    return g


def graph_file(workers: int, path: str) -> nx.Graph:
    """A user topology: GraphML (``.graphml``/``.xml``) or an edge list (any other name)
    with one link per line, ``u v bandwidth_bps latency_s`` (spaces or commas; ``#``
    comments). The PS is node ``ps``, workers are ``w0..w{n-1}``; other nodes are switches
    (any names).
    """
    file = checked("network.path", path)
    g = _read_graphml(file) if file.suffix.lower() in (".graphml", ".xml") else _read_edges(file)
    validate(g, workers, f"network.path={path}:")
    return g


def _read_graphml(file: Path) -> nx.Graph:
    raw = read_bytes("network.path", file)
    try:
        g = nx.read_graphml(io.BytesIO(raw))
    except Exception as exc:  # the XML parser's own error says where
        why = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise ConfigError(f"network.path={file}: not a readable GraphML file ({why})") from None
    if g.is_multigraph():
        raise ConfigError(f"network.path={file}: parallel edges; give one edge per node pair")
    return nx.Graph(g)


def _read_edges(file: Path) -> nx.Graph:
    g = nx.Graph()
    for lineno, line in enumerate(read_text("network.path", file).splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        fields = text.replace(",", " ").split()
        where = f"network.path={file} line {lineno}"
        if len(fields) != 4:
            raise ConfigError(
                f"{where}: expected 'u v bandwidth_bps latency_s', got {len(fields)} fields"
            )
        u, v = fields[0], fields[1]
        try:
            bandwidth, latency = float(fields[2]), float(fields[3])
        except ValueError:
            raise ConfigError(f"{where}: bandwidth_bps and latency_s must be numbers") from None
        if g.has_edge(u, v):
            raise ConfigError(f"{where}: a second link between {u} and {v}")
        g.add_edge(u, v, bandwidth_bps=bandwidth, latency_s=latency)
    return g


def validate(g: nx.Graph, workers: int, where: str) -> None:
    """Every node the run needs exists and reaches the PS; every link has valid numbers."""
    need = [PS, *(worker_node(i) for i in range(workers))]
    missing = [node for node in need if node not in g]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ConfigError(
            f"{where} graph lacks nodes {missing[:5]}{more} (the PS is 'ps', "
            f"workers 'w0'..'w{workers - 1}')"
        )
    for u, v, attrs in g.edges(data=True):
        for key in ("bandwidth_bps", "latency_s"):
            if key not in attrs:
                raise ConfigError(f"{where} link {u}-{v} lacks the attribute {key}")
            try:
                attrs[key] = float(attrs[key])
            except (TypeError, ValueError):
                what = f"{key}={attrs[key]!r} is not a number"
                raise ConfigError(f"{where} link {u}-{v}: {what}") from None
        problem = link_problem(attrs["bandwidth_bps"], attrs["latency_s"])
        if problem:
            raise ConfigError(f"{where} link {u}-{v}: {problem}")
    reach = nx.node_connected_component(g, PS)
    cut = [node for node in need if node not in reach]
    if cut:
        raise ConfigError(f"{where} workers {cut[:5]} are not connected to the PS")
