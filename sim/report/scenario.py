"""Words for figure titles: what a run was, and what a group of runs compared.

:func:`describe` sums a resolved config up in one line (the code, the rule, the cluster,
who lies, the data); :func:`headline` names a run by what its command line changed, or
as the default scenario. :func:`sweep_title` names a group of runs by the settings they
share and the ones they vary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sim.config.options import option_name


def _name(group: str, node: Any) -> str:
    if not isinstance(node, Mapping):
        return str(node)
    target = str(node.get("_target_", ""))
    return option_name(group, target) or target.rsplit(".", 1)[-1]


def describe(cfg: Mapping[str, Any]) -> str:
    """One line: ``repetition code r=3 + mean · 15 workers · 1 reverse adversary ...``."""
    if not cfg:
        return ""
    code, rule, adv = cfg.get("code", {}), cfg.get("aggregator", {}), cfg.get("adversary", {})
    parts = []
    name = _name("code", code)
    if name == "none":
        head = "no code"
    else:
        keys = [k for k in ("r", "s", "scheme", "l") if k in code]
        head = f"{name} code " + " ".join(f"{k}={code[k]}" for k in keys)
    rule_name = _name("aggregator", rule)
    pre = "".join(f"{p} + " for p in rule.get("pre") or [])
    f = f" (f={rule['f']})" if rule.get("f") else ""
    parts.append(f"{head.strip()}, then {pre}{rule_name}{f}")
    parts.append(f"{cfg.get('cluster', {}).get('workers', '?')} workers")
    count = int(adv.get("count", 0) or 0)
    strategy = _name("adversary", adv)
    if strategy == "mixed":
        parts.append("mixed adversaries")
    elif count and strategy != "none":
        where = adv.get("placement", "")
        parts.append(f"{count} {strategy} adversar{'y' if count == 1 else 'ies'} ({where})")
    else:
        parts.append("no adversary")
    latency = _name("latency", cfg.get("latency", {}))
    if latency != "constant":
        parts.append(f"{latency} compute times")
    wait = cfg.get("ps", {}).get("wait", "all")
    if wait != "all":
        parts.append(f"PS waits: {wait}")
    data = _name("data", cfg.get("data", {}))
    iterations = cfg.get("train", {}).get("iterations", "?")
    parts.append(f"{data}, {iterations} iterations, seed {cfg.get('seed', 0)}")
    return " · ".join(parts)


def headline(label: str, title: str = "") -> str:
    """A run named by its title (``outputs.title``) and what its command line changed
    (``label``), or as the default scenario."""
    label = " ".join(w for w in label.split() if not (title and w.startswith("experiment=")))
    if title:
        return f"{title}: {label}" if label else title
    return f"draco-sim {label}" if label else "draco-sim: the default scenario"


def sweep_title(shared: Mapping[str, str], varied: Mapping[str, Sequence[str]]) -> str:
    """``experiment=lesson_3: adversary.count = 0, 1, 2``."""
    fixed = " ".join(f"{k}={v}" for k, v in shared.items() if k != "seed")
    swept = "; ".join(f"{k} = {', '.join(vals)}" for k, vals in varied.items())
    if fixed and swept:
        return f"{fixed}: {swept}"
    return fixed or swept or "runs"
