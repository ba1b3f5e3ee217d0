"""The network: a networkx graph whose links carry one transfer at a time per direction.

A message crosses the shortest path hop by hop (store and forward). On each hop it
holds the link's direction for ``8 * size / bandwidth`` seconds, then propagates for
the link's latency. Transfers that want a busy link queue in arrival order (a SimPy
Resource), so the PS's link is a real bottleneck when ``n * d`` is large.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import networkx as nx
import simpy

from sim.errors import ConfigError

PS = "ps"
Node = str
TraceHook = Callable[[tuple[Node, Node], float, float], None]  # (link, start_s, end_s)


def worker_node(rank: int) -> Node:
    return f"w{rank}"


def star(workers: int, bandwidth_bps: float = 10e9, latency_s: float = 50e-6) -> nx.Graph:
    """PS and every worker on one switch."""
    check_link(bandwidth_bps, latency_s, "network")
    g = nx.Graph()
    g.add_edge(PS, "switch", bandwidth_bps=bandwidth_bps, latency_s=latency_s)
    for i in range(workers):
        g.add_edge(worker_node(i), "switch", bandwidth_bps=bandwidth_bps, latency_s=latency_s)
    return g


def check_link(bandwidth_bps: float, latency_s: float, where: str) -> None:
    if not bandwidth_bps > 0 or bandwidth_bps == float("inf"):
        raise ConfigError(f"{where}.bandwidth_bps={bandwidth_bps} must be a positive number")
    if not 0 <= latency_s < float("inf"):
        raise ConfigError(f"{where}.latency_s={latency_s} must be a finite number >= 0")


@dataclass
class Link:
    busy: simpy.Resource
    bandwidth_bps: float
    latency_s: float


class Network:
    def __init__(self, env: simpy.Environment, graph: nx.Graph, workers: int) -> None:
        self.env, self.graph = env, graph
        missing = [n for n in [PS, *map(worker_node, range(workers))] if n not in graph]
        if missing:
            raise ConfigError(
                f"network graph lacks nodes {missing[:5]} (PS is 'ps', workers 'w0'..)"
            )
        self.links: dict[tuple[Node, Node], Link] = {}
        for u, v, attrs in graph.edges(data=True):
            for a, b in ((u, v), (v, u)):
                self.links[a, b] = Link(
                    simpy.Resource(env, capacity=1), attrs["bandwidth_bps"], attrs["latency_s"]
                )
        down = nx.single_source_shortest_path(graph, PS)
        self.paths: dict[tuple[Node, Node], list[Node]] = {}
        for i in range(workers):
            w = worker_node(i)
            if w not in down:
                raise ConfigError(f"network: worker {w} is not connected to the PS")
            self.paths[PS, w] = down[w]
            self.paths[w, PS] = down[w][::-1]
        self.on_link: TraceHook | None = None

    def send(self, src: Node, dst: Node, size_bytes: int) -> Generator[Any, Any, None]:
        """SimPy process body: deliver ``size_bytes`` from ``src`` to ``dst``."""
        path = self.paths[src, dst]
        for hop in zip(path[:-1], path[1:], strict=True):
            link = self.links[hop]
            with link.busy.request() as grant:
                yield grant
                start = self.env.now
                try:
                    yield self.env.timeout(8.0 * size_bytes / link.bandwidth_bps)
                finally:
                    if self.on_link is not None:
                        self.on_link(hop, start, self.env.now)
            yield self.env.timeout(link.latency_s)
