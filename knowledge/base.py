"""The knowledge base: loads the entries and finds the best ones for a question."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from knowledge.analysis import Analyzer
from knowledge.content import read_allow_list, read_entries, read_synonyms
from knowledge.model import KINDS, ROLES, TOPICS, Contact, Entry, Hit
from knowledge.ranking import Ranker

ROOT = Path(__file__).resolve().parent
# The NLU topic is a strong hint but not the whole question: it lifts, it does not decide.
TOPIC_BOOST = 1.5
# Lets entries on the topic show up even when the question shares no word with them.
TOPIC_FLOOR = 0.5


def _check_choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; use one of: {', '.join(allowed)}")


class Knowledge:
    """Protocols and training offers, searchable by question, topic and role."""

    def __init__(
        self,
        entries: Iterable[Entry],
        ranker: Ranker | None = None,
        contacts: Iterable[Contact] = (),
    ) -> None:
        self._entries = sorted(entries, key=lambda entry: entry.id)
        self._by_id = {entry.id: entry for entry in self._entries}
        self._ranker = ranker or Ranker(self._entries, Analyzer())
        self._contacts = {contact.name: contact for contact in contacts}

    @classmethod
    def load(cls, root: Path | None = None) -> Knowledge:
        """Read and check all content under root; raises KnowledgeError naming each bad file."""
        root = Path(root) if root is not None else ROOT
        allowed = read_allow_list(root)
        entries = read_entries(root, allowed)
        contacts = [
            Contact(c.name, c.phones[0] if c.phones else None, caveat=c.caveat)
            for c in allowed.contacts.values()
        ]
        return cls(entries, Ranker(entries, Analyzer(read_synonyms(root))), contacts)

    def contact(self, name: str) -> Contact | None:
        """A contact as contacts.yml lists it: its first phone number and its caveat."""
        return self._contacts.get(name)

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id, if there is one."""
        return self._by_id.get(entry_id)

    def entries(self, kind: str | None = None) -> list[Entry]:
        """All entries in id order, or only protocols or only training offers."""
        _check_choice("kind", kind, KINDS)
        return [entry for entry in self._entries if kind is None or entry.kind == kind]

    def search(
        self,
        query: str,
        *,
        kind: str | None = None,
        topic: str | None = None,
        role: str | None = None,
        limit: int = 3,
    ) -> list[Hit]:
        """The best entries for a question, best first; training offers only for the role."""
        _check_choice("kind", kind, KINDS)
        _check_choice("topic", topic, TOPICS)
        _check_choice("role", role, ROLES)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        scores = self._ranker.scores(query)
        hits = []
        for entry in self.entries(kind):
            if role is not None and entry.kind == "training" and not entry.suits(role):
                continue
            score = scores.get(entry.id, 0.0)
            if topic is not None and topic in entry.topics:
                score = score * TOPIC_BOOST + TOPIC_FLOOR
            if score > 0:
                hits.append(Hit(entry, score))
        hits.sort(key=lambda hit: (-hit.score, hit.entry.id))
        return hits[:limit]
