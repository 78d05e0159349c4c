"""A protocol entry to write into a copy of the content."""

from __future__ import annotations

from pathlib import Path

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


def write_entry(root: Path, entry_id: str = "test-protocol", text: str | None = None) -> Path:
    """Write one protocol file into a content folder and return its path."""
    path = root / "protocols" / f"{entry_id}.md"
    path.write_text(text if text is not None else ENTRY.format(id=entry_id), encoding="utf-8")
    return path
