"""Dutch NLU for Weerbaar: a message in, an intent with entities out (Rasa, local or remote)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

INTENTS = (
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "cancel",
    "help",
    "report_incident",
    "request_support",
    "emergency",
    "find_protocol",
    "find_training",
    "case_status",
    "out_of_scope",
)
ENTITY_VALUES: dict[str, tuple[str, ...]] = {
    "incident_type": (
        "verbale_agressie",
        "bedreiging",
        "fysiek_geweld",
        "vernieling",
        "online",
        "doxing",
        "stalking",
    ),
    "platform": (
        "x",
        "facebook",
        "instagram",
        "whatsapp",
        "tiktok",
        "linkedin",
        "youtube",
        "telegram",
        "email",
        "telefoon",
        "brief",
        "sms",
    ),
    "role": (
        "burgemeester",
        "wethouder",
        "raadslid",
        "statenlid",
        "gedeputeerde",
        "waterschapsbestuurder",
        "griffier",
        "ambtenaar",
    ),
    "topic": (
        "eerste_stappen",
        "aangifte",
        "online",
        "doxing",
        "bewijs",
        "woning",
        "bewaken_beveiligen",
        "ondersteuningsteam",
        "nazorg",
        "pers",
        "bijeenkomst",
        "werkgever",
        "veiligheidspakket",
        "agressieprotocol",
        "training",
    ),
}
# Below this top confidence the bot offers the likely intents as buttons instead of guessing.
# Chosen by bench/nlu_bench.py on 5-fold out-of-fold answers of the config.yml pipeline: the
# highest threshold within 0.005 of the best macro-F1 (curve and numbers in the README).
FALLBACK_THRESHOLD = 0.3


class NLUUnavailable(RuntimeError):
    """The NLU model or server cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Entity:
    """One entity found in a message, with its canonical value."""

    entity: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Parse:
    """What the NLU understood of one message."""

    text: str
    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]
    entities: tuple[Entity, ...]
    source: str
    fallback: bool

    def entity(self, name: str) -> str | None:
        """First canonical value of entity `name`, or None."""
        return next((e.value for e in self.entities if e.entity == name), None)


class NLU(Protocol):
    """Anything that parses a message into a Parse."""

    async def parse(self, text: str) -> Parse: ...

    async def aclose(self) -> None:
        """Release the model's worker thread or the HTTP client."""
