"""Shared fixtures: one trained and loaded NLU model per test session."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlu import load_nlu
from nlu.parsing import RasaNLU
from nlu.training import ensure_model


@pytest.fixture(scope="session")
def heldout_file() -> Path:
    """The held-out test set (never trained on)."""
    return Path(__file__).with_name("heldout.yml")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current data and config, trained first when missing."""
    path, _ = ensure_model()
    return path


@pytest.fixture(scope="session")
def nlu(trained_model: Path) -> Iterator[RasaNLU]:
    """The in-process NLU, loaded once; its parse works from any test's event loop."""
    loop = asyncio.new_event_loop()
    loaded = loop.run_until_complete(load_nlu())
    assert isinstance(loaded, RasaNLU)
    yield loaded
    loop.run_until_complete(loaded.aclose())
    loop.close()
