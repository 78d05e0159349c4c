"""BM25 ranking of entries, with weighted fields, word pairs and tolerance for typos."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from os.path import commonprefix

from knowledge.analysis import Analyzer
from knowledge.model import Entry

K1 = 1.2
B = 0.75
# A word in the title says more about an entry than the same word in a step.
FIELD_WEIGHTS = {"title": 3.0, "keywords": 2.0, "topics": 1.5, "body": 1.0, "details": 0.5}
# A guessed word (typo, other form, tail of a compound) counts for less than a known word.
NEAR_WEIGHT = 0.7
# Two query words that stand side by side in an entry ("online aangifte") count extra.
PAIR_WEIGHT = 0.5
MAX_QUERY_CHARS = 4096
MAX_QUERY_WORDS = 64
MIN_NEAR_LENGTH = 4
# Words sharing this much of their start are forms of one word: antisemitisch, antisemitisme.
MIN_PREFIX = 6
PREFIX_SHARE = 0.8


def _fields(entry: Entry) -> list[tuple[str, str]]:
    """The entry's searchable texts with their field; word pairs never cross two texts."""
    training = (entry.audience, entry.format, entry.provider, entry.how_to_join)
    return [
        ("title", entry.title),
        *(("keywords", keyword) for keyword in entry.keywords),
        *(("topics", topic.replace("_", " ")) for topic in entry.topics),
        ("body", " ".join((entry.answer, *entry.steps))),
        *(("details", f"{c.name} {c.note or ''}") for c in entry.contacts),
        *(("details", text) for text in training if text),
    ]


def _pairs(words: Sequence[str]) -> list[str]:
    return [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def _tail(word: str, known: frozenset[str]) -> str | None:
    """The longest known word a compound ends with: huisadres → adres."""
    for start in range(3, len(word) - MIN_NEAR_LENGTH + 1):
        if word[start:] in known:
            return word[start:]
    return None


def _deletions(term: str) -> set[str]:
    return {term[:i] + term[i + 1 :] for i in range(len(term))}


def one_edit_apart(a: str, b: str) -> bool:
    """Whether b is a one-letter typo of a: one letter added, dropped, changed or swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        return len(diff) == 1 or (swapped and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class Ranker:
    """Scores entries for a query with BM25 over their weighted fields."""

    def __init__(
        self,
        entries: Sequence[Entry],
        analyzer: Analyzer,
        *,
        tolerant: bool = True,
        pairs: bool = True,
    ) -> None:
        self.analyzer = analyzer
        self.tolerant = tolerant
        self.pairs = pairs
        self._ids = [entry.id for entry in entries]
        self._frequencies: list[dict[str, float]] = []
        for entry in entries:
            frequency: dict[str, float] = {}
            for field, text in _fields(entry):
                words = analyzer.words(text)
                for term in analyzer.terms(text) + (_pairs(words) if pairs else []):
                    frequency[term] = frequency.get(term, 0.0) + FIELD_WEIGHTS[field]
            self._frequencies.append(frequency)
        self._lengths = [sum(c.values()) for c in self._frequencies]
        self._average = sum(self._lengths) / len(self._lengths) if self._lengths else 1.0
        documents = Counter(term for counts in self._frequencies for term in counts)
        total = len(self._frequencies)
        self._idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in documents.items()}
        self._documents = documents
        self._postings: dict[str, list[int]] = {}
        for index, frequency in enumerate(self._frequencies):
            for term in frequency:
                self._postings.setdefault(term, []).append(index)
        self._known = frozenset(t for t in documents if " " not in t) | analyzer.vocabulary
        self._by_deletion: dict[str, set[str]] = {}
        self._by_start: dict[str, list[str]] = {}
        for term in sorted(self._known):
            if len(term) >= MIN_NEAR_LENGTH and term.isalpha():
                for shorter in _deletions(term):
                    self._by_deletion.setdefault(shorter, set()).add(term)
                if len(term) >= MIN_PREFIX:
                    self._by_start.setdefault(term[:MIN_PREFIX], []).append(term)

    def _guess(self, word: str) -> str | None:
        """The known word meant by an unknown one: a typo, another form, or a compound's tail."""
        if len(word) < MIN_NEAR_LENGTH or not word.isalpha():
            return None
        candidates = set(self._by_deletion.get(word, ()))
        for shorter in _deletions(word):
            if shorter in self._known:
                candidates.add(shorter)
            candidates.update(self._by_deletion.get(shorter, ()))
        near = [c for c in candidates if one_edit_apart(word, c)]
        if near:
            return min(near, key=lambda c: (-self._documents.get(c, 0), c))
        shared = {
            k: len(commonprefix((word, k))) for k in self._by_start.get(word[:MIN_PREFIX], ())
        }
        forms = [k for k, n in shared.items() if n >= PREFIX_SHARE * min(len(k), len(word))]
        if forms:
            return min(forms, key=lambda k: (-shared[k], -self._documents.get(k, 0), k))
        # Dutch compounds put the main word last: dreigbrief → brief, raadsvergadering → vergader.
        return _tail(word, self._known)

    def query_terms(self, query: str) -> dict[str, float]:
        """The weighted terms a query is searched with."""
        words: list[tuple[str, float]] = []
        for word in self.analyzer.words(query[:MAX_QUERY_CHARS])[:MAX_QUERY_WORDS]:
            if word in self._known:
                words.append((word, 1.0))
            elif self.tolerant and (guess := self._guess(word)):
                words.append((guess, NEAR_WEIGHT))
        terms = self.analyzer.expand(words)
        if self.pairs:
            for (a, wa), (b, wb) in zip(words, words[1:], strict=False):
                terms.append((f"{a} {b}", PAIR_WEIGHT * min(wa, wb)))
        weights: dict[str, float] = {}
        for term, weight in terms:
            if term in self._idf:
                weights[term] = max(weights.get(term, 0.0), weight)
        return weights

    def scores(self, query: str) -> dict[str, float]:
        """BM25 score per entry id, for entries that share at least one term with the query."""
        scores: dict[str, float] = {}
        for term, weight in self.query_terms(query).items():
            idf = self._idf[term]
            for index in self._postings[term]:
                frequency = self._frequencies[index][term]
                norm = K1 * (1 - B + B * self._lengths[index] / self._average)
                gain = weight * idf * frequency * (K1 + 1) / (frequency + norm)
                scores[self._ids[index]] = scores.get(self._ids[index], 0.0) + gain
        return scores
