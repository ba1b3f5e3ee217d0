"""Presets that choose options of other groups, and what a command line may add to them.

``defense=NAME`` names a code and a rule together (``defense=mean`` is ``code=none
aggregator=mean``). Choosing, beside it, a *different* option of a group it sets is a
contradiction, and an error: ``defense=mean code=repetition`` does not say which one is
meant. Settings inside the chosen options stay free (``defense=draco code.r=5``).

``experiment=NAME`` is different: a named scenario is a starting point, and anything
else on the command line changes it (``experiment=lesson_1_one_liar aggregator=median``
is that lesson with the median).
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

PRESET_GROUPS = ("defense",)


def conflicts(cfg: DictConfig, loader: Any) -> list[str]:
    """One line per group option that contradicts a chosen preset.

    ``cfg`` is a composed config with its ``hydra`` node (``hydra.runtime.choices`` says
    what was finally chosen); ``loader`` is Hydra's config loader, whose repository reads
    the preset's own defaults list wherever it lives on the search path.
    """
    choices = OmegaConf.select(cfg, "hydra.runtime.choices", default=None)
    if choices is None:
        return []
    found = []
    for group in PRESET_GROUPS:
        name = choices.get(group)
        loaded = None if name is None else loader.repository.load_config(f"{group}/{name}")
        for default in getattr(loaded, "defaults_list", None) or []:
            other = str(getattr(default, "group", "") or "").lstrip("/")
            wanted = default.get_name() if getattr(default, "override", False) else None
            chosen = choices.get(other)
            if wanted is not None and chosen is not None and chosen != wanted:
                found.append(
                    f"{group}={name} sets {other}={wanted}, but {other}={chosen} was chosen "
                    f"too: keep one of them (a defense names a code and a rule together)"
                )
    return found
