"""Fixtures for the knowledge tests: the real content, and a copy to break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import Knowledge
from knowledge.base import ROOT

ENTRY = """---
id: {id}
kind: protocol
title: Een testprotocol
topics: [aangifte]
roles: []
contacts:
  - name: Politie
    phone: 0900-8844
sources:
  - https://politie.nl/themas/aangifte-doen.html
reviewed: 2026-11-29
---
Een korte uitleg in één alinea.

1. Eerste stap.
2. Tweede stap.

## Meer

Wat je verder nog kunt doen.

1. Derde stap.
"""


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    """The knowledge base as shipped."""
    return Knowledge.load()


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the shipped content that a test may change."""
    root = tmp_path / "knowledge"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def write_entry(root: Path, entry_id: str = "test-protocol", text: str | None = None) -> Path:
    """Write one protocol file into a content folder and return its path."""
    path = root / "protocols" / f"{entry_id}.md"
    path.write_text(text if text is not None else ENTRY.format(id=entry_id), encoding="utf-8")
    return path
