"""Dutch text to search terms: folding, stop words, light stemming and synonyms."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

STOPWORDS = frozenset(
    """
    aan al alle alles als alsjeblieft alstublieft ben bent bij dan dat de deze die dit doe doen
    doet door dus een eens eigenlijk en er even ga gaan gaat geen had heb hebben hebt heeft heel
    het hier hij hoe hun ik in is je jij jou jouw kan kun kunnen kunt maar me meer mij mijn moet
    moeten na naar niet niets nog nou nu of om onder ons onze ook op over pas please pls precies
    te toch tot u uit uw van veel voor waar waarom wanneer want was wat we weer wel welk welke
    werd wie wij wil wilt worden wordt zal ze zelf zich zij zijn zo zou zouden graag iets iemand
    mee met word krijg krijgen krijgt steeds werkt
    """.split()
)
_TOKEN = re.compile(r"[a-z0-9]+")
_VOWELS = frozenset("aeiou")


def fold(text: str) -> str:
    """Lowercase and strip accents: 'Geïntimideerd' → 'geintimideerd'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    """Reduce a Dutch word to a rough stem, so inflected forms meet: bedreigingen → bedreig."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("heden"):
        return word[:-5] + "heid"
    if word.endswith("leden"):
        return word[:-5] + "lid"
    if word.endswith("en") and len(word) >= 5:
        word = word[:-2]
    elif word.endswith(("ers", "els", "ems", "jes", "ies")) and len(word) >= 5:
        word = word[:-1]
    if word.endswith("je") and len(word) >= 5:
        word = word[:-2]
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    if word.endswith("ing") and len(word) >= 6:
        word = word[:-3]
    if len(word) >= 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        word = word[:-1]
    if word[-1] in "vz":
        word = word[:-1] + {"v": "f", "z": "s"}[word[-1]]
    # Open and closed syllables spell the same vowel differently: raad/raden, maak/maken.
    if len(word) >= 4 and word[-1] not in _VOWELS and word[-2] == word[-3] and word[-2] in "aou":
        word = word[:-3] + word[-2] + word[-1]
    return word


class Analyzer:
    """Turns text into search terms; the same analyser serves entries and queries."""

    def __init__(
        self, synonyms: Mapping[str, Sequence[str]] | None = None, *, normalise: bool = True
    ) -> None:
        self.normalise = normalise
        # First term of a synonym phrase → (phrase terms, terms of the word it stands for).
        self._phrases: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for word, variants in (synonyms or {}).items():
            target = tuple(self.words(word))
            for variant in variants:
                phrase = tuple(self.words(variant))
                if phrase and target and phrase != target:
                    self._phrases.setdefault(phrase[0], []).append((phrase, target))
        for options in self._phrases.values():
            options.sort(key=lambda option: (-len(option[0]), option))
        self.vocabulary = frozenset(
            word for options in self._phrases.values() for phrase, _ in options for word in phrase
        )

    @classmethod
    def plain(cls) -> Analyzer:
        """Lowercased words only, as a baseline to measure the Dutch analysis against."""
        return cls(normalise=False)

    def words(self, text: str) -> list[str]:
        """The words of a text, normalised: folded, without stop words, stemmed."""
        if not self.normalise:
            return re.findall(r"\w+", text.lower())
        words = _TOKEN.findall(fold(text))
        return [stem(w) for w in words if w not in STOPWORDS and (len(w) > 1 or w == "x")]

    def expand(self, words: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
        """Weighted words plus the words their synonym phrases stand for."""
        terms = list(words)
        plain = [word for word, _ in words]
        for start, word in enumerate(plain):
            targets: set[tuple[str, ...]] = set()
            for phrase, target in self._phrases.get(word, ()):
                end = start + len(phrase)
                if tuple(plain[start:end]) == phrase and target not in targets:
                    targets.add(target)
                    weight = min(weight for _, weight in words[start:end])
                    terms.extend((term, weight) for term in target)
        return terms

    def terms(self, text: str) -> list[str]:
        """The search terms of a text, with the words its synonym phrases stand for."""
        return [term for term, _ in self.expand([(word, 1.0) for word in self.words(text)])]
