"""Encryption keys: a keyring for the length of a test, and none left behind by any test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.base import crypto

KEY_A = crypto.new_key()
KEY_B = crypto.new_key()


@pytest.fixture
def keys() -> Iterator[tuple[str, ...]]:
    """Encryption on with one key for the length of a test."""
    previous = crypto.use((KEY_A,))
    yield (KEY_A,)
    crypto.restore(previous)


@pytest.fixture(autouse=True)
def no_keys_left_behind() -> Iterator[None]:
    """Every test starts and ends with the keyring it found (none, in this suite)."""
    before = crypto.active()
    yield
    crypto.restore(before)
