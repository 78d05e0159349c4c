"""Scoring what the bot would do with each message of a Rasa-format NLU file."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from nlu import NLU, Parse
from nlu.safety import needs_112_line
from nlu.training import read_nlu_data

# Who puts "bel 112" first in the bot's reply: the safety net or the classifier (the emergency
# answer), the dialogue (the 112 line before another answer), or nobody.
LAYERS = ("safety_net", "classifier", "dialogue", "none")


def load_examples(path: Path) -> list[tuple[str, str, frozenset[tuple[str, str]]]]:
    """(text, intent, {(entity, value)}) for every example in a Rasa NLU file or folder."""
    (data,) = read_nlu_data(path)
    return [
        (
            message["text"],
            message["intent"],
            frozenset((e["entity"], str(e["value"])) for e in message.get("entities") or []),
        )
        for message in data.intent_examples
    ]


def decision(parse: Parse) -> str:
    """The intent the bot acts on: a fallback is treated as out_of_scope."""
    return "out_of_scope" if parse.fallback else parse.intent


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def score(expected: list[str], predicted: list[str]) -> dict:
    """Accuracy, macro-F1 and per-intent precision/recall/F1/support (0 where undefined)."""
    labels = sorted(set(expected) | set(predicted))
    pairs = Counter(zip(expected, predicted, strict=True))
    wanted, given = Counter(expected), Counter(predicted)
    per_intent = {}
    for label in labels:
        hits = pairs[(label, label)]
        precision, recall = _ratio(hits, given[label]), _ratio(hits, wanted[label])
        f1 = _ratio(2 * hits, given[label] + wanted[label])
        per_intent[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": wanted[label],
        }
    f1s = [_ratio(2 * pairs[(x, x)], given[x] + wanted[x]) for x in labels]
    return {
        "accuracy": round(_ratio(sum(pairs[(x, x)] for x in labels), len(expected)), 4),
        "macro_f1": round(sum(f1s) / len(f1s), 4) if labels else 0.0,
        "per_intent": per_intent,
    }


def layer(parse: Parse, now: datetime) -> str:
    """Which layer puts 112 first in the reply to this message (one of LAYERS)."""
    if decision(parse) == "emergency":
        return parse.source
    return "dialogue" if needs_112_line(parse, now) else "none"


def by_source(expected: list[str], parses: list[Parse], now: datetime) -> dict:
    """Per layer, how many emergencies it caught and how many other messages it answered
    with 112; the emergencies no layer caught are listed."""
    counts = {"emergency": Counter[str](), "other": Counter[str]()}
    missed = []
    for intent, parse in zip(expected, parses, strict=True):
        kind = "emergency" if intent == "emergency" else "other"
        caught = layer(parse, now)
        counts[kind][caught] += 1
        if kind == "emergency" and caught == "none":
            missed.append(parse.text)
    report: dict = {
        kind: {"support": sum(counter.values()), **{name: counter[name] for name in LAYERS}}
        for kind, counter in counts.items()
    }
    report["missed"] = missed
    return report


async def evaluate(
    nlu: NLU, path: Path, *, sources: bool = False, now: datetime | None = None
) -> dict:
    """Score `nlu` (classifier, safety net and fallback together) on the file at `path`.

    With `sources` the report also says which layer put 112 first (`by_source`).
    """
    examples = load_examples(path)
    expected = [intent for _, intent, _ in examples]
    parses = [await nlu.parse(text) for text, _, _ in examples]
    report = score(expected, [decision(p) for p in parses])
    if sources:
        report["by_source"] = by_source(expected, parses, now or datetime.now(timezone.utc))
    return report
