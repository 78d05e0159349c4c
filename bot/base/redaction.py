"""Log safety: secrets out of every log line (tokens, signing secret, encryption keys, database
password), users as short tags, errors as places without their messages."""

from __future__ import annotations

import hashlib
import logging
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

MASK = "[geheim]"
MIN_LENGTH = 4  # shorter values would blank out ordinary words


class Redactor(logging.Filter):
    """Replaces each secret (also URL-quoted) in a record's message and traceback by MASK."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        forms = {form for secret in secrets if len(secret) >= MIN_LENGTH for form in _forms(secret)}
        self.secrets = tuple(sorted(forms, key=len, reverse=True))  # longest first

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def excepthook(
        self,
        kind: type[BaseException],
        error: BaseException,
        trace: TracebackType | None,
    ) -> None:
        """An uncaught exception, printed as Python would, without the secrets."""
        text = "".join(traceback.format_exception(kind, error, trace))
        sys.stderr.write(self.redact(text))


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote(secret)}


def install(secrets: Iterable[str]) -> Redactor:
    """Put the filter on every handler of the root logger and on uncaught exceptions."""
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    sys.excepthook = redactor.excepthook
    return redactor


def user_tag(user: str) -> str:
    """A short stable tag for logs instead of the user id."""
    return hashlib.sha256(user.encode()).hexdigest()[:10]


def safe_trace(error: BaseException) -> str:
    """Where an error happened, without its message (which may hold personal data)."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    places = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames))
    return f"{type(error).__name__} at {places}"
