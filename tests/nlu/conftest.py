"""Shared fixtures: the trained model; the real NLU comes from the session's service."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu import NLU
from nlu.training import DATA_DIR, ensure_model, read_nlu_data


@pytest.fixture(scope="session", autouse=True)
def nlu_files() -> None:
    """Rasa reads the training data and every held-out file once (in the NLU environment)."""
    read_nlu_data(DATA_DIR, *Path(__file__).parent.glob("*.yml"))


@pytest.fixture(scope="session")
def heldout_file() -> Path:
    """The held-out test set (never trained on)."""
    return Path(__file__).with_name("heldout.yml")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current data and config, trained first when missing."""
    path, _ = ensure_model()
    return path


@pytest.fixture
def nlu(nlu_model: NLU) -> NLU:
    """The real NLU: the session's service with the trained model."""
    return nlu_model
