"""Encryption at rest: free text, evidence, drafts and queued messages sealed with Fernet keys.

`WEERBAAR_ENCRYPTION_KEYS` holds comma-separated Fernet keys: the first seals, every key opens,
so a key is rotated by putting a new one first and running `python -m bot keys rotate`.
Without keys values are stored as they are (local use only; start-up warns). Sealed text starts
with SEALED; plain text that happens to start with a marker is stored behind RAW, so the two
can never be mistaken for each other.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import JSON, LargeBinary, Text, TypeDecorator

log = logging.getLogger("weerbaar.crypto")

ENV = "WEERBAAR_ENCRYPTION_KEYS"
SEALED = "wbenc1:"
RAW = "wbraw1:"
SEALED_FIELD = "__sealed__"  # a sealed JSON value is stored as {SEALED_FIELD: token}


class KeyMissing(RuntimeError):
    """Stored data is sealed, and no configured key opens it."""


def parse_keys(value: str) -> tuple[str, ...]:
    """The keys in a WEERBAAR_ENCRYPTION_KEYS value; ValueError names the first bad one."""
    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError(
                f"key {number} is not a Fernet key (44 characters of url-safe base64; "
                "make one with `python -m bot keys new`)"
            ) from None
    return keys


def new_key() -> str:
    """A fresh random Fernet key."""
    return Fernet.generate_key().decode()


class Keyring:
    """The configured keys: the first seals, all of them open."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def seal(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def open(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise KeyMissing("none of the configured keys opens the stored data") from None

    def rotate(self, token: bytes) -> bytes:
        """The same data sealed with the first key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise KeyMissing("none of the configured keys opens the stored data") from None


_keyring: Keyring | None = None


def use(keys: Sequence[str]) -> Keyring | None:
    """Seal with these keys from now on (none: store plainly); returns the keyring used before."""
    global _keyring
    previous, _keyring = _keyring, (Keyring(keys) if keys else None)
    return previous


def restore(keyring: Keyring | None) -> None:
    """Put back a keyring returned by use()."""
    global _keyring
    _keyring = keyring


def active() -> Keyring | None:
    return _keyring


def _opened(token: bytes) -> bytes:
    if _keyring is None:
        raise KeyMissing(f"stored data is encrypted: set {ENV}")
    return _keyring.open(token)


# --- values --------------------------------------------------------------------------------


def seal_text(value: str) -> str:
    if _keyring is not None:
        return SEALED + _keyring.seal(value.encode()).decode()
    return RAW + value if value.startswith((SEALED, RAW)) else value


def open_text(stored: str) -> str:
    if stored.startswith(SEALED):
        return _opened(stored[len(SEALED) :].encode()).decode()
    return stored.removeprefix(RAW)


def seal_bytes(value: bytes) -> bytes:
    if _keyring is not None:
        return SEALED.encode() + _keyring.seal(value)
    return RAW.encode() + value if value.startswith((SEALED.encode(), RAW.encode())) else value


def open_bytes(stored: bytes) -> bytes:
    stored = bytes(stored)
    if stored.startswith(SEALED.encode()):
        return _opened(stored[len(SEALED) :])
    return stored.removeprefix(RAW.encode())


def seal_json(value: Any) -> Any:
    if _keyring is None:
        return value
    return {SEALED_FIELD: _keyring.seal(json.dumps(value).encode()).decode()}


def open_json(stored: Any) -> Any:
    if isinstance(stored, dict) and set(stored) == {SEALED_FIELD}:
        return json.loads(_opened(str(stored[SEALED_FIELD]).encode()))
    return stored


def is_sealed(stored: Any) -> bool:
    """Whether a stored value (text, bytes or JSON) is sealed."""
    if isinstance(stored, str):
        return stored.startswith(SEALED)
    if isinstance(stored, (bytes, memoryview)):
        return bytes(stored).startswith(SEALED.encode())
    return isinstance(stored, dict) and set(stored) == {SEALED_FIELD}


def reseal(stored: Any) -> Any:
    """A stored value sealed with the first key (plain values get sealed too)."""
    assert _keyring is not None
    if isinstance(stored, str):
        if stored.startswith(SEALED):
            return SEALED + _keyring.rotate(stored[len(SEALED) :].encode()).decode()
        return seal_text(open_text(stored))
    if isinstance(stored, (bytes, memoryview)):
        stored = bytes(stored)
        if stored.startswith(SEALED.encode()):
            return SEALED.encode() + _keyring.rotate(stored[len(SEALED) :])
        return seal_bytes(open_bytes(stored))
    if is_sealed(stored):
        return {SEALED_FIELD: _keyring.rotate(str(stored[SEALED_FIELD]).encode()).decode()}
    return seal_json(stored)


# --- column types --------------------------------------------------------------------------


class SealedText(TypeDecorator):
    """Text that is encrypted in the database when keys are configured."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal_text(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else open_text(value)


class SealedBytes(TypeDecorator):
    """Binary content (evidence files) encrypted in the database when keys are configured."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else seal_bytes(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else open_bytes(value)


class SealedJSON(TypeDecorator):
    """A JSON value stored as one sealed token when keys are configured."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else seal_json(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else open_json(value)


SEALED_TYPES = (SealedText, SealedBytes, SealedJSON)
