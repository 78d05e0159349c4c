"""Measuring search quality on a set of questions with the entry that should answer them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.base import Knowledge


@dataclass(frozen=True)
class Question:
    """A question as a user types it, and the entry id that answers it."""

    text: str
    expect: str
    kind: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Score:
    """Share of questions answered first (hit@1) and among the first three (hit@3)."""

    hit_at_1: float
    hit_at_3: float
    misses: tuple[tuple[str, str, tuple[str, ...]], ...]  # question, expected, ids found


def read_questions(path: Path) -> list[Question]:
    """Read a quality set: a YAML list under 'queries' of {q, expect, kind?, role?}."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [
        Question(item["q"], item["expect"], item.get("kind"), item.get("role"))
        for item in data["queries"]
    ]


def measure(knowledge: Knowledge, questions: list[Question]) -> Score:
    """Search every question as the flows would and count where the expected entry lands."""
    first = top3 = 0
    misses = []
    for question in questions:
        hits = knowledge.search(question.text, kind=question.kind, role=question.role, limit=3)
        ids = tuple(hit.entry.id for hit in hits)
        first += ids[:1] == (question.expect,)
        top3 += question.expect in ids
        if ids[:1] != (question.expect,):
            misses.append((question.text, question.expect, ids))
    total = len(questions) or 1
    return Score(first / total, top3 / total, tuple(misses))
