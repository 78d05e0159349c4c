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
    caveat: str | None = None  # a warning that goes wherever the number is shown


@dataclass(frozen=True)
class Entry:
    """One protocol or training offer.

    The first answer fits on a phone: a short answer, what to do now in a few steps, the one
    number that matters (`call`) and one source as a link. The rest (`more`, `more_steps`, the
    contacts and every source) is shown on request.
    """

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
    call: Contact | None = None
    more: str | None = None
    more_steps: tuple[str, ...] = ()
    audience: str | None = None
    format: str | None = None
    provider: str | None = None
    how_to_join: str | None = None
    for_roles: tuple[tuple[str, str], ...] = ()
    keywords: tuple[str, ...] = ()

    def suits(self, role: str) -> bool:
        """Whether the entry is meant for this role; no roles means everyone."""
        return not self.roles or role in self.roles

    def for_role(self, role: str | None) -> str | None:
        """The sentence written for this role, if any."""
        return dict(self.for_roles).get(role) if role else None

    @property
    def link(self) -> str:
        """The one source the first answer shows: the first one listed."""
        return self.sources[0]

    @property
    def has_more(self) -> bool:
        return bool(self.more or self.more_steps or self.contacts or len(self.sources) > 1)


@dataclass(frozen=True)
class Hit:
    """An entry found by a search, with its score."""

    entry: Entry
    score: float
