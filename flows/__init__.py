"""Declarative guided flows (flows/*.yml) and the engine that runs them."""

from __future__ import annotations

from functools import cache

from flows.model import Catalog, FlowError, load_catalog, validate

__all__ = ["Catalog", "FlowError", "catalog", "text"]


@cache
def catalog() -> Catalog:
    """Every flow, loaded and checked once; raises FlowError naming the flow and step."""
    from bot.features.reporting import ACTIONS
    from nlu import INTENTS

    loaded = load_catalog()
    validate(loaded, ACTIONS, INTENTS)
    return loaded


def text(flow: str | None, key: str, **values: object) -> str:
    """A text from the catalogue: the named flow's own, else the shared one (common.yml)."""
    loaded = catalog()
    return loaded.text(loaded.flows[flow] if flow else None, key, **values)
