"""Declarative guided flows (flows/*.yml) and the engine that runs them."""

from __future__ import annotations

from functools import cache

from flows.model import Catalog, Flow, FlowError, load_catalog, validate
from nlu import INTENTS

__all__ = ["Catalog", "FlowError", "catalog", "choice_label", "text"]


@cache
def catalog() -> Catalog:
    """Every flow, loaded and checked once; raises FlowError naming the flow and step.

    The actions flows name are checked when the engine is built with the application's actions.
    """
    loaded = load_catalog()
    validate(loaded, None, INTENTS)
    return loaded


def text(flow: str | Flow | None, key: str, **values: object) -> str:
    """A text from the catalogue: the flow's own, else the shared one (common.yml)."""
    loaded = catalog()
    return loaded.text(loaded.flows[flow] if isinstance(flow, str) else flow, key, **values)


def choice_label(flow: str | Flow, slot: str, value: str | None) -> str:
    """How a slot's stored value reads (its choice's label); the value itself if no choice fits."""
    spec = catalog().flows[flow] if isinstance(flow, str) else flow
    if value is None or slot not in spec.slots:
        return value or ""
    choice = spec.slots[slot].choice(value)
    return choice.label if choice else value
