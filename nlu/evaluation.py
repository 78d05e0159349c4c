"""Scoring what the bot would do with each message of a Rasa-format NLU file."""

from __future__ import annotations

from pathlib import Path

from nlu import NLU, Parse


def load_examples(path: Path) -> list[tuple[str, str, frozenset[tuple[str, str]]]]:
    """(text, intent, {(entity, value)}) for every example in a Rasa NLU file or folder."""
    from nlu.training import load_training_data

    return [
        (
            message.get("text"),
            message.get("intent"),
            frozenset((e["entity"], str(e["value"])) for e in message.get("entities") or []),
        )
        for message in load_training_data(path).intent_examples
    ]


def decision(parse: Parse) -> str:
    """The intent the bot acts on: a fallback is treated as out_of_scope."""
    return "out_of_scope" if parse.fallback else parse.intent


def score(expected: list[str], predicted: list[str]) -> dict:
    """Accuracy, macro-F1 and per-intent precision/recall/F1/support."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    labels = sorted(set(expected) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        expected, predicted, labels=labels, zero_division=0
    )
    return {
        "accuracy": round(float(accuracy_score(expected, predicted)), 4),
        "macro_f1": round(float(f1.mean()), 4) if labels else 0.0,
        "per_intent": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
    }


async def evaluate(nlu: NLU, path: Path) -> dict:
    """Score `nlu` (classifier, safety net and fallback together) on the file at `path`."""
    examples = load_examples(path)
    parses = [await nlu.parse(text) for text, _, _ in examples]
    return score([intent for _, intent, _ in examples], [decision(p) for p in parses])
