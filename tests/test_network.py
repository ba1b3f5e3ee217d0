"""Links, topologies, topology files, and the closed-form FIFO against a SimPy simulation."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import simpy

from sim.config.errors import ConfigError
from sim.network import PS, Network, fifo, graph_file, star, two_tier, worker_node
from tests.conftest import problems, said


def test_n_equal_messages_through_one_link_take_n_size_over_bandwidth() -> None:
    n, size_bytes, bandwidth_bps = 12, 250_000, 1e9
    hold = 8 * size_bytes / bandwidth_bps
    start = fifo(np.zeros(n, dtype=np.int64), np.zeros(n), np.full(n, hold))
    assert start == pytest.approx(np.arange(n) * hold)  # back to back, in rank order
    assert start[-1] + hold == pytest.approx(n * 8 * size_bytes / bandwidth_bps)


def test_an_idle_link_serves_on_arrival_and_links_do_not_share() -> None:
    link = np.array([0, 1, 0, 0])
    start = fifo(link, np.array([0.0, 0.0, 5.0, 5.5]), np.ones(4))
    assert start.tolist() == [0.0, 0.0, 5.0, 6.0]


def test_star_broadcast_and_gather_by_hand() -> None:
    n, size, bw, lat = 4, 1000, 1e6, 1e-3
    net = Network(star(n, bandwidth_bps=bw, latency_s=lat), n)
    hold = 8 * size / bw
    got, _ = net.broadcast(0.0, size)
    # copy i waits for i copies on the PS's link, then crosses switch->wi
    assert got == pytest.approx((np.arange(n) + 1) * hold + lat + hold + lat)
    arrive, _ = net.gather(np.zeros(n), size)
    # all reach the switch at hold + lat, then queue on switch->ps
    assert arrive == pytest.approx(hold + lat + (np.arange(n) + 1) * hold + lat)
    silent, _ = net.gather(np.array([0.0, np.inf, 0.0, 0.0]), size)
    assert np.isinf(silent[1]) and silent[3] == pytest.approx(arrive[2])


def simpy_reference(graph: nx.Graph, workers: int, ready: np.ndarray, size: int, up: bool):  # type: ignore[no-untyped-def]
    """One SimPy process per transfer, a Resource per link direction (store and forward)."""
    env = simpy.Environment()
    links = {}
    for u, v, a in graph.edges(data=True):
        for hop in ((u, v), (v, u)):
            links[hop] = (simpy.Resource(env, 1), a["bandwidth_bps"], a["latency_s"])
    tree = nx.single_source_shortest_path(graph, PS)
    done = np.full(workers, np.inf)

    def send(i: int):  # type: ignore[no-untyped-def]
        yield env.timeout(ready[i])
        path = tree[worker_node(i)]
        path = path[::-1] if up else path
        for hop in zip(path[:-1], path[1:], strict=True):
            busy, bw, lat = links[hop]
            with busy.request() as grant:
                yield grant
                yield env.timeout(8 * size / bw)
            yield env.timeout(lat)
        done[i] = env.now

    for i in range(workers):
        if np.isfinite(ready[i]):
            env.process(send(i))
    env.run()
    return done


@pytest.mark.parametrize("seed", range(6))
def test_closed_form_matches_a_simpy_resource_simulation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    graph = two_tier(
        n,
        bandwidth_bps=float(rng.uniform(1e6, 1e7)),
        latency_s=float(rng.uniform(0, 1e-3)),
        workers_per_rack=int(rng.integers(1, 9)),
        oversubscription=float(rng.uniform(0.5, 12)),
    )
    net = Network(graph, n)
    size = int(rng.integers(100, 20_000))
    ready = rng.uniform(0, 0.05, n)
    ready[rng.random(n) < 0.2] = np.inf  # some send nothing
    arrive, _ = net.gather(ready, size)
    assert arrive == pytest.approx(simpy_reference(graph, n, ready, size, up=True), rel=1e-12)
    got, _ = net.broadcast(0.0, size)
    assert got == pytest.approx(simpy_reference(graph, n, np.zeros(n), size, up=False), rel=1e-12)


def test_two_tier_shape_and_oversubscribed_uplinks() -> None:
    g = two_tier(10, bandwidth_bps=1e9, latency_s=1e-5, workers_per_rack=4, oversubscription=2)
    assert sorted(n for n in g if n.startswith("rack")) == ["rack0", "rack1", "rack2"]
    assert g.edges["rack1", "core"]["bandwidth_bps"] == 4 * 1e9 / 2
    assert g.has_edge("w5", "rack1") and g.has_edge(PS, "core")
    assert nx.shortest_path(g, PS, "w9") == [PS, "core", "rack2", "w9"]
    assert said(
        "network.workers_per_rack=0", problems("network=two_tier", "network.workers_per_rack=0")
    )
    assert said("network.bandwidth_bps=0", problems("network=star", "network.bandwidth_bps=0"))


def test_an_oversubscribed_rack_slows_its_uploads() -> None:
    ready = np.zeros(8)
    fast = Network(two_tier(8, workers_per_rack=8, oversubscription=1), 8).gather(ready, 10**6)
    slow = Network(two_tier(8, workers_per_rack=8, oversubscription=16), 8).gather(ready, 10**6)
    assert slow[0].max() > fast[0].max()


EDGES = """# a PS, two racks
ps core 1e9 1e-5
core tor0 2e9 1e-5
core, tor1, 2e9, 1e-5
w0 tor0 1e9 1e-5
w1 tor0 1e9 1e-5
w2 tor1 1e9 1e-5
"""


def test_edge_list_file(tmp_path: Path) -> None:
    path = tmp_path / "net.edges"
    path.write_text(EDGES)
    g = graph_file(3, str(path))
    assert g.edges["core", "tor1"]["bandwidth_bps"] == 2e9
    assert Network(g, 3).broadcast(0.0, 100)[0].shape == (3,)


def test_graphml_file(tmp_path: Path) -> None:
    path = tmp_path / "net.graphml"
    g = nx.Graph()
    g.add_edge("ps", "sw", bandwidth_bps=1e9, latency_s=1e-5)
    g.add_edge("w0", "sw", bandwidth_bps=1e9, latency_s=2e-5)
    nx.write_graphml(g, path)
    loaded = graph_file(1, str(path))
    assert loaded.edges["w0", "sw"]["latency_s"] == 2e-5


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.edges", "ps sw 1e9\n", r"line 1: expected 'u v bandwidth_bps latency_s', got 3"),
        ("a.edges", "# c\nps sw 1e9 fast\n", r"line 2: bandwidth_bps and latency_s must be"),
        ("a.edges", "ps sw 1e9 0\nw0 sw 1e9 0\nps sw 1e9 0\n", "line 3: a second link"),
        ("a.edges", "ps sw 1e9 0\nw0 sw 1e9 0\n", r"graph lacks nodes \['w1'\]"),
        ("a.edges", "sw w0 1e9 0\nsw w1 1e9 0\n", r"graph lacks nodes \['ps'\]"),
        (
            "a.edges",
            "ps sw 1e9 0\nw0 sw 0 0\nw1 sw 1e9 0\n",
            "link (w0-sw|sw-w0): bandwidth_bps=0.0 must be a positive",
        ),
        (
            "a.edges",
            "ps sw 1e9 0\nw0 sw 1e9 0\nw1 x 1e9 0\n",
            r"workers \['w1'\] are not connected",
        ),
        ("a.graphml", "<graphml><graph", "not a readable GraphML file"),
    ],
)
def test_bad_graph_files_fail_with_one_clear_line(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        graph_file(2, str(path))
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_graphml_without_link_numbers(tmp_path: Path) -> None:
    path = tmp_path / "net.graphml"
    g = nx.Graph()
    g.add_edge("ps", "w0", bandwidth_bps=1e9)
    nx.write_graphml(g, path)
    with pytest.raises(ConfigError, match="link ps-w0 lacks the attribute latency_s"):
        graph_file(1, str(path))


def test_missing_graph_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="network.path=.*none.graphml: no such file"):
        graph_file(2, str(tmp_path / "none.graphml"))
    assert said("network.path: no value given", problems("network=graph"))
