"""Safety net: danger happening now is always `emergency`, whatever the classifier says.

Danger is recognised from what makes it present, not from a list of sentences: word classes
(`safety_words.yml`: a marker of now, a present-tense verb of presence or attack, another
person, a place close to the writer, a weapon, fear, a cry for help) combine into the rules
below. Guards say when the same words tell a story or ask a question instead: the past, a
hypothetical, a negation, something that has gone on for weeks, something online.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from nlu import Parse
from nlu.dates import clearly_past
from nlu.training import DATA_DIR

WORDS_FILE = Path(__file__).with_name("safety_words.yml")
# Words ending like a Dutch past tense ("bonkte", "gooiden") are never matched with a typo:
# one letter is all that lies between "gooien" and "gooiden".
PAST_ENDINGS = ("de", "te", "den", "ten")
FUZZY_LENGTH = 5
SUBSTITUTION_LENGTH = 7
WILDCARD = "*"


@dataclass(frozen=True)
class Rule:
    """Danger when every need (one of its classes) and, if given, one of `any_of` occur together."""

    name: str
    needs: tuple[frozenset[str], ...]
    any_of: frozenset[str] = frozenset()
    # How far apart (in words) the needs may be; None: anywhere in the sentence.
    within: int | None = None
    # Whether the needs must come in the order given ("ik word bedreigd", not "bedreigd worden").
    ordered: bool = False
    # Whether all of it must be in one clause ("..., nu is alles rustig" is about something else).
    one_clause: bool = False
    # Guards besides the ones every rule has (past, gone, hypothetical, negation).
    guards: frozenset[str] = frozenset()


def _rule(
    name: str,
    *needs: str,
    any_of: str = "",
    within: int | None = None,
    ordered: bool = False,
    one_clause: bool = False,
    **guards: bool,
) -> Rule:
    return Rule(
        name,
        tuple(frozenset(need.split("|")) for need in needs),
        frozenset(any_of.split()),
        within,
        ordered,
        one_clause,
        frozenset(guard for guard, on in guards.items() if on),
    )


NEAR = "place presence attack now shout cry here drawn hurt"
PRESENT = "presence attack hurt follow place here"
RULES: tuple[Rule, ...] = (
    _rule("help_now", "alarm"),
    _rule("help_now", "shout|cry", "urgent", within=2),
    _rule("help_now", "shout|cry", "shout|cry", within=3),
    _rule("in_danger", "danger"),
    _rule("trapped", "trapped"),
    _rule("intrusion", "intrude"),
    _rule("fire", "burning"),
    _rule("fire", "fire", any_of="place now shout urgent attack presence"),
    _rule("suspect_object", "suspect"),
    _rule("weapon", "weapon", any_of=NEAR),
    _rule("attacked", "passive", "hurt", ordered=True, duration=True, online=True),
    _rule("followed", "follow", duration=True, online=True),
    _rule("attack", "other", "attack", duration=True, online=True),
    _rule("attack", "other", "tries", any_of="place attack hurt", online=True),
    _rule("presence", "other", "presence", "place", online=True),
    _rule("presence", "other", "here", within=3, ordered=True, online=True),
    _rule("presence", "now", "other", any_of=PRESENT, one_clause=True, online=True),
    _rule("presence", "shout", "other", any_of=PRESENT, online=True),
    _rule("fear", "fear", any_of="presence attack place here now follow", duration=True),
)
# Present-tense verbs of danger: a past-tense verb elsewhere in the sentence does not make it
# a story ("ik kwam thuis en er staat een man in de tuin").
PRESENT_DANGER = frozenset({"presence", "attack", "burning", "intrude"})
OVERRIDE_PAST = frozenset({"now", "shout", "alarm"})
# Words that tell of an incident, for the 112 line on every reply (`needs_112_line`).
INCIDENT = frozenset(
    {"attack", "hurt", "follow", "intrude", "burning", "fire", "weapon", "trapped", "danger"}
    | {"suspect", "fear", "alarm"}
)


@dataclass(frozen=True)
class Danger:
    """Which safety rule fired on which part of the message."""

    rule: str
    phrase: str


@dataclass(frozen=True)
class Words:
    """The word classes: entries (one word or a phrase) per class, and the classes of compounds."""

    classes: dict[str, tuple[tuple[str, ...], ...]]
    compounds: frozenset[str]
    vocabulary: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        words = {w for entries in self.classes.values() for e in entries for w in e}
        object.__setattr__(self, "vocabulary", frozenset(words - {WILDCARD}))


def load_words(path: Path = WORDS_FILE) -> Words:
    """Read the word classes and guards from `path`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    classes = {
        name: tuple(tuple(normalise(str(entry)).split()) for entry in entries)
        for section in ("classes", "guards")
        for name, entries in data[section].items()
    }
    return Words(classes, frozenset(data.get("compounds") or ()))


def normalise(text: str) -> str:
    """Lower-case, strip accents, straighten quotes and collapse white space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("\u2019", "'").replace("\u2018", "'").lower()
    return " ".join(plain.split())


def squeeze(word: str) -> str:
    """The word with every run of one letter written once ("staaat", "staat" -> "stat")."""
    return re.sub(r"(.)\1+", r"\1", word)


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_typo(typed: str, word: str) -> bool:
    """One letter too many, too few, two swapped, or (in a long word) one wrong letter.

    A wrong letter in a short word is too often another word ("kamer" is not "hamer").
    """
    if len(typed) != len(word):
        return True  # the deletion index only pairs words one letter apart
    diff = [i for i in range(len(word)) if typed[i] != word[i]]
    if len(diff) == 2:
        first, second = diff
        return second == first + 1 and (typed[first], typed[second]) == (word[second], word[first])
    return len(diff) == 1 and len(word) >= SUBSTITUTION_LENGTH


def known_words(data_dir: Path) -> frozenset[str]:
    """Every word of the NLU training data: a word people type is not a typo of another."""
    words: set[str] = set()
    for path in sorted(data_dir.rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            text = re.sub(
                r"\]\([^)]*\)|\]\{[^}]*\}|\]\[[^\]]*\]", " ", str(block.get("examples", ""))
            )
            words.update(TOKEN.findall(normalise(text)))
    return frozenset(words)


class Matcher:
    """Tags the words of a sentence with the classes they belong to."""

    def __init__(self, words: Words, known: frozenset[str] = frozenset()) -> None:
        self.words = words
        self.known = known
        self.squeezed: dict[str, set[str]] = {}
        self.fuzzy: dict[str, set[str]] = {}
        for word in words.vocabulary:
            self.squeezed.setdefault(squeeze(word), set()).add(word)
            if len(squeeze(word)) >= FUZZY_LENGTH:
                for variant in _deletions(squeeze(word)):
                    self.fuzzy.setdefault(variant, set()).add(word)
        self.compound_ends = {
            entry[0] for name in words.compounds for entry in words.classes[name] if len(entry) == 1
        }
        # Entries by their first word; the longest are tried first (see `tag`).
        self.starting: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for name, entries in words.classes.items():
            for entry in entries:
                self.starting.setdefault(entry[0], []).append((entry, name))

    @functools.lru_cache(maxsize=4096)  # noqa: B019  (one matcher per process)
    def same(self, token: str) -> frozenset[str]:
        """The vocabulary words `token` stands for, allowing a typo and doubled letters."""
        if token in self.words.vocabulary:
            found = {token}
        elif token in self.known:  # a real word, not a typo: "woorden" is not "worden"
            found = set()
        else:
            key = squeeze(token)
            found = set(self.squeezed.get(key, ()))
            if not found and len(token) >= FUZZY_LENGTH and not token.endswith(PAST_ENDINGS):
                for variant in _deletions(key):
                    found |= {
                        word
                        for word in self.fuzzy.get(variant, ())
                        if _one_typo(key, squeeze(word))
                    }
        found |= {
            end for end in self.compound_ends if len(token) >= len(end) + 3 and token.endswith(end)
        }
        return frozenset(found)

    def tag(self, tokens: list[str]) -> list[set[str]]:
        """For each token, the classes it belongs to (a phrase claims its words for itself)."""
        tags: list[set[str]] = [set() for _ in tokens]
        claimed = [False] * len(tokens)
        negations = {e[0] for e in self.words.classes["negation"]}
        found = []
        for start, token in enumerate(tokens):
            for first in self.same(token):
                for entry, name in self.starting.get(first, ()):
                    span = range(start, start + len(entry))
                    if span.stop <= len(tokens) and all(
                        (word == WILDCARD and not self.same(tokens[i]) & negations)
                        or word in self.same(tokens[i])
                        for word, i in zip(entry[1:], span[1:], strict=True)
                    ):
                        found.append((span, name))
        # Longest phrases first, so "ik durf niet" is fear before "niet" is a negation.
        for span, name in sorted(found, key=lambda match: -len(match[0])):
            if len(span) == 1:
                if not claimed[span.start]:
                    tags[span.start].add(name)
            elif not any(claimed[i] for i in span):
                # The phrase counts once, at its first word.
                for i in span:
                    tags[i] = {name} if i == span.start else set()
                    claimed[i] = True
        return tags


TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|!{2,}|[,;:]")
SENTENCE = re.compile(r"[.?\n]+")
CLAUSE_BREAKS = frozenset({",", ";", ":", "maar"})


@dataclass
class Sentence:
    """One sentence: its words, their classes and the clause each word is in."""

    tokens: list[str]
    tags: list[set[str]]
    clauses: list[int]

    def where(self, name: str) -> list[int]:
        return [i for i, tags in enumerate(self.tags) if name in tags]

    def has(self, name: str) -> bool:
        return any(name in tags for tags in self.tags)


def _sentence(text: str, matcher: Matcher) -> Sentence:
    tokens: list[str] = []
    clauses: list[int] = []
    clause = 0
    for token in TOKEN.findall(text):
        if token in CLAUSE_BREAKS:
            clause += 1
            if token != "maar":
                continue
        tokens.append("!!" if token.startswith("!") else token)
        clauses.append(clause)
    return Sentence(tokens, matcher.tag(tokens), clauses)


def _fits(rule: Rule, sentence: Sentence) -> list[int] | None:
    """Token positions that satisfy the rule (one per need, plus one of any_of), or None."""
    chosen: list[int] = []
    for need in rule.needs:
        options = [
            i
            for i, tags in enumerate(sentence.tags)
            if tags & need
            and i not in chosen
            and (not rule.ordered or not chosen or i > chosen[-1])
            and (
                not rule.one_clause
                or not chosen
                or sentence.clauses[i] == sentence.clauses[chosen[0]]
            )
        ]
        if not options:
            return None
        if rule.within is not None and chosen:
            options = [i for i in options if all(abs(i - j) <= rule.within for j in chosen)]
            if not options:
                return None
        chosen.append(options[0])
    if rule.any_of:
        extra = [
            i
            for i, tags in enumerate(sentence.tags)
            if tags & rule.any_of
            and (not rule.one_clause or sentence.clauses[i] == sentence.clauses[chosen[0]])
        ]
        if not extra:
            return None
        chosen.append(extra[0])
    return sorted(chosen)


def _guarded(rule: Rule, at: list[int], sentence: Sentence, urgent: bool, past: bool) -> bool:
    """True when a guard says these words tell a story or ask a question."""
    end = at[-1]
    if past and not urgent:
        return True
    if (
        sentence.has("past_verb")
        and not urgent
        and not any(sentence.tags[i] & PRESENT_DANGER for i in range(len(sentence.tokens)))
    ):
        return True
    if sentence.has("gone"):
        return True
    if not urgent and any(i < end for i in sentence.where("hypothetical")):
        return True
    clauses = {sentence.clauses[i] for i in at}
    if any(i < end and sentence.clauses[i] in clauses for i in sentence.where("negation")):
        return True
    return any(
        sentence.clauses[i] in clauses
        for name in ("duration", "online")
        if name in rule.guards
        for i in sentence.where(name)
    )


@functools.cache
def _matcher() -> Matcher:
    return Matcher(load_words(), known_words(DATA_DIR))


def _sentences(text: str) -> list[Sentence]:
    matcher = _matcher()
    return [_sentence(part, matcher) for part in SENTENCE.split(normalise(text))]


def find_danger(text: str) -> Danger | None:
    """Return the first danger rule that fires on `text`, or None."""
    sentences = _sentences(text)
    urgent = any(s.has(name) for s in sentences for name in OVERRIDE_PAST)
    past = any(s.has("past") for s in sentences)
    for sentence in sentences:
        for rule in RULES:
            at = _fits(rule, sentence)
            if at is not None and not _guarded(rule, at, sentence, urgent, past):
                return Danger(rule.name, " ".join(sentence.tokens[at[0] : at[-1] + 1]))
    return None


def is_emergency(text: str) -> bool:
    """True when `text` clearly describes danger happening right now."""
    return find_danger(text) is not None


def describes_incident(text: str) -> bool:
    """Whether `text` tells of an incident: an attack, a threat, a weapon, fire, fear, a cry."""
    return any(s.has(name) for s in _sentences(text) for name in INCIDENT)


def needs_112_line(parse: Parse, now: datetime) -> bool:
    """The second line of defence: a reply to this message starts with the 112 line.

    So it does when the message tells of an incident (or the classifier hears danger) and its
    time is now, today or unknown; a calm story of last week does not get it.
    """
    incident = parse.intent == "emergency" or describes_incident(parse.text)
    return incident and not clearly_past(parse.text, now)
