"""Declarative guided flows (flows/*.yml) and the engine that runs them."""

from __future__ import annotations

from functools import cache

from flows.model import Catalog, FlowError, load_catalog, validate

__all__ = ["Catalog", "FlowError", "catalog"]


@cache
def catalog() -> Catalog:
    """Every flow, loaded and checked once; raises FlowError naming the flow and step."""
    from flows.actions import ACTIONS
    from nlu import INTENTS

    loaded = load_catalog()
    validate(loaded, ACTIONS, INTENTS)
    return loaded
