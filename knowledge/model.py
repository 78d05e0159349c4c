"""Types of the knowledge base: entries, their contacts and search hits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from nlu import ENTITY_VALUES

KINDS = ("protocol", "training")
# The vocabulary is the NLU's: a `role` or `topic` entity maps straight onto entries.
ROLES = ENTITY_VALUES["role"]
TOPICS = ENTITY_VALUES["topic"]


class KnowledgeError(Exception):
    """Content that cannot be used; each problem reads 'file: what is wrong'."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Contact:
    """Someone to call or visit, as allowed by contacts.yml."""

    name: str
    phone: str | None = None
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Entry:
    """One protocol or training offer: a short answer, steps and where it comes from."""

    id: str
    kind: str
    title: str
    answer: str
    steps: tuple[str, ...]
    contacts: tuple[Contact, ...]
    roles: tuple[str, ...]
    topics: tuple[str, ...]
    sources: tuple[str, ...]
    reviewed: date
    audience: str | None = None
    format: str | None = None
    provider: str | None = None
    how_to_join: str | None = None
    keywords: tuple[str, ...] = ()

    def suits(self, role: str) -> bool:
        """Whether the entry is meant for this role; no roles means everyone."""
        return not self.roles or role in self.roles


@dataclass(frozen=True)
class Hit:
    """An entry found by a search, with its score."""

    entry: Entry
    score: float
