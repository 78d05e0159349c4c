"""What a report's story already says: type, time, place, target and the reporter's role.

Small rules over the words people use, with the choice lists of the flows as vocabulary; a field
the story does not settle stays empty, so the interview asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows.model import Slot
from flows.validators import choice_spans, normalise
from nlu.dates import find_when

# Monitor categories, most serious first: a story naming two ("een duw en uitgescholden") is the
# more serious one.
SEVERITY = (
    "fysiek_geweld",
    "bedreiging",
    "vernieling",
    "doxing",
    "stalking",
    "online",
    "verbale_agressie",
)
SERIOUS = frozenset(SEVERITY[:3])

_PLACE_NOUNS = (
    "huis thuis woning voordeur deur tuin oprit brievenbus straat stoep dorp wijk buurt markt "
    "plein winkel supermarkt school kerk station parkeerplaats gemeentehuis stadhuis raadhuis "
    "raadszaal gemeentekantoor provinciehuis balie loket ingang hal kantoor sporthal zwembad "
    "kantine"
).split()
_PREPOSITIONS = "bij|op|in|voor|aan|naar|uit|van|rond|rondom|tegen|achter|naast|langs"
_OWNERS = "het|de|een|mijn|ons|onze|haar|zijn|hun"
_NOUN = rf"(?i:{'|'.join(_PLACE_NOUNS)})\b"
# A town: a capitalised name, maybe joined ("Alphen aan den Rijn", "Wijk bij Duurstede").
_TOWN = r"[A-Z][a-zà-ÿ]+(?:-[A-Za-zà-ÿ]+)*(?: (?:aan|op|bij) (?:den |de )?[A-Z][a-zà-ÿ]+)?\b"
_OWNER = rf"(?:(?i:{_OWNERS})\s+)?"
_LINK = rf"(?:\s+(?i:van|in|bij|te|op)\s+{_OWNER}(?:{_NOUN}|{_TOWN}))"
# Words after "in" that name no place.
_NOT_TOWNS = (
    "Facebook Twitter Instagram TikTok WhatsApp Telegram X LinkedIn Signal Snapchat YouTube "
    "Nederland"
).split()
_PLACES = (
    re.compile(rf"(?i:\b(?:{_PREPOSITIONS})\s+){_OWNER}{_NOUN}{_LINK}*"),
    re.compile(rf"(?i:\b(?:in|te|uit)\s+)(?!(?:{'|'.join(_NOT_TOWNS)})\b){_TOWN}{_LINK}*"),
    re.compile(rf"(?i:\b(?:mijn|ons|onze|het)\s+){_NOUN}{_LINK}*"),
    re.compile(r"(?i:\bthuis\b)"),
)

_TARGETS = (
    (
        "gezin",
        r"\b(?:(?:mijn|ons|onze)\s+(?:gezin|kinderen|kind|zoon|dochter|vrouw|man|partner|"
        r"vriend|vriendin|ouders|moeder|vader|familie)|ons\s+huis|onze\s+woning)\b",
    ),
    (
        "medewerker",
        r"\b(?:mijn|onze|ons|een|de)\s+(?:collega|collega's|medewerker|medewerkers|griffier|"
        r"baliemedewerker|boa|secretaresse|ambtenaar)\b",
    ),
    ("ikzelf", r"\b(?:ik|mij|me|mijzelf|mezelf|mijn)\b"),
)
_ROLE_CUE = r"\b(?:ik ben|ben ik|als|werk als|functie als)\s+(?:een\s+|de\s+)?"


@dataclass
class Reading:
    """What was read from a story: slot name -> value, and how each value reads."""

    values: dict[str, Any] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)

    def put(self, slot: str, value: Any, shown: str) -> None:
        self.values[slot] = value
        self.shown[slot] = shown


def incident_type(slot: Slot, story: str) -> str | None:
    """The Monitor category the story's words name; the most serious when it names several."""
    found = {value for _, _, value in choice_spans(slot, story)} & set(SEVERITY)
    return next((value for value in SEVERITY if value in found), None)


def place(story: str) -> str | None:
    """Where it happened, in the story's own words ("bij mijn huis in Zwolle")."""
    for pattern in _PLACES:
        if match := pattern.search(story):
            return match.group(0).strip(" .,")
    return None


def target(story: str) -> str | None:
    """Who it was aimed at: family and colleagues named in the story come before "me"."""
    words = normalise(story)
    return next((value for value, pattern in _TARGETS if re.search(pattern, words)), None)


def role(slot: Slot, story: str) -> str | None:
    """The reporter's role when they say it ("ik ben wethouder", "als raadslid")."""
    words = normalise(story)
    for choice in slot.choices:
        for synonym in (choice.value, *choice.synonyms):
            if len(synonym) > 4 and re.search(rf"{_ROLE_CUE}{re.escape(synonym)}\b", words):
                return choice.value
    return None


def read(story: str, now: datetime, slots: dict[str, Slot]) -> Reading:
    """Everything the story settles, for the slots given (incident_type, targeted, role, ...)."""
    reading = Reading()
    if "incident_type" in slots and (kind := incident_type(slots["incident_type"], story)):
        choice = slots["incident_type"].choice(kind)
        reading.put("incident_type", kind, choice.label if choice else kind)
    if "platform" in slots:
        found = {value for _, _, value in choice_spans(slots["platform"], story)}
        if len(found) == 1:
            value = found.pop()
            choice = slots["platform"].choice(value)
            reading.put("platform", value, choice.label if choice else value)
    when = find_when(story, now)
    if "occurred" in slots and when is not None and not when.ambiguous:
        moment = {
            "moment": when.moment.isoformat(),
            "precision": when.precision,
            "text": story[:200],
        }
        reading.put("occurred", moment, when.describe(now))
    if "location" in slots and (where := place(story)):
        reading.put("location", where, where)
    if "targeted" in slots and (who := target(story)):
        choice = slots["targeted"].choice(who)
        reading.put("targeted", who, choice.label if choice else who)
    if "role" in slots and (office := role(slots["role"], story)):
        choice = slots["role"].choice(office)
        reading.put("role", office, choice.label if choice else office)
    return reading
