"""Training data and held-out file: contract intents, counts, no duplicates, canonical entities."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from nlu import ENTITY_VALUES, INTENTS
from nlu.training import DATA_DIR, read_nlu_data

HELDOUT = Path(__file__).with_name("heldout.yml")
# Written the way people type on a phone: short commands, negations, English, acronyms, typos.
PHONE = Path(__file__).with_name("heldout_phone.yml")
# Every Rasa file beside this test is a held-out set: none of it may be trained on.
HELDOUT_FILES = sorted(Path(__file__).parent.glob("*.yml"))

TASK_INTENTS = {
    "report_incident",
    "request_support",
    "emergency",
    "find_protocol",
    "find_training",
    "case_status",
    "out_of_scope",
}


@cache
def _everything() -> dict[Path, object]:
    """Rasa's reading of the training data and every held-out file (one Rasa process)."""
    paths = [DATA_DIR, *HELDOUT_FILES]
    return dict(zip(paths, read_nlu_data(*paths), strict=True))


def _load(path: Path):
    return _everything()[path]


def training():
    return _load(DATA_DIR)


def heldout():
    return _load(HELDOUT)


def phone():
    return _load(PHONE)


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def _words(text: str) -> str:
    """The text without case, punctuation or extra spaces: "Hoi :)" and "hoi" are one sentence."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def test_training_data_has_exactly_the_contract_intents_with_enough_examples():
    counts = Counter(m.get("intent") for m in training().intent_examples)
    assert set(counts) == set(INTENTS)
    for intent, count in counts.items():
        assert count >= (40 if intent in TASK_INTENTS else 20), intent


@pytest.mark.parametrize("data", [heldout, phone], ids=["heldout", "phone"])
def test_heldout_has_every_intent_at_least_ten_times(data):
    counts = Counter(m.get("intent") for m in data().intent_examples)
    assert set(counts) == set(INTENTS)
    assert min(counts.values()) >= 10


def test_phone_set_has_at_least_200_messages():
    assert len(phone().intent_examples) >= 200


@pytest.mark.parametrize("data", [training, heldout, phone], ids=["training", "heldout", "phone"])
def test_no_example_appears_twice(data):
    counts = Counter(_normal(m.get("text")) for m in data().intent_examples)
    assert [text for text, n in counts.items() if n > 1] == []


def test_rasa_validator_finds_no_example_in_two_intents():
    assert training().no_example_in_two_intents


def test_every_heldout_file_beside_the_tests_is_checked():
    assert {HELDOUT, PHONE} <= set(HELDOUT_FILES)


@pytest.mark.parametrize("path", HELDOUT_FILES, ids=[p.name for p in HELDOUT_FILES])
def test_no_heldout_sentence_appears_in_the_training_data(path):
    data = training()
    seen = (
        {_words(m.get("text")) for m in data.intent_examples}
        | {_words(e) for table in data.lookup_tables for e in table["elements"]}
        | {_words(text) for text in data.entity_synonyms}
    )
    assert [
        m.get("text") for m in _load(path).intent_examples if _words(m.get("text")) in seen
    ] == []


@pytest.mark.parametrize("data", [training, heldout, phone], ids=["training", "heldout", "phone"])
def test_annotated_entities_use_contract_names_and_canonical_values(data):
    wrong = [
        (m.get("text"), e["entity"], e["value"])
        for m in data().intent_examples
        for e in m.get("entities") or []
        if e["value"] not in ENTITY_VALUES.get(e["entity"], ())
    ]
    assert wrong == []


def test_every_lookup_entry_maps_to_a_canonical_value():
    data = training()
    assert {t["name"] for t in data.lookup_tables} == set(ENTITY_VALUES)
    for table in data.lookup_tables:
        canonical = set(ENTITY_VALUES[table["name"]])
        unmapped = [
            e for e in table["elements"] if data.entity_synonyms.get(e.lower(), e) not in canonical
        ]
        assert unmapped == [], table["name"]


def test_every_entity_is_annotated_somewhere_so_the_regex_extractor_uses_its_lookup():
    annotated = {e["entity"] for m in training().intent_examples for e in m.get("entities") or []}
    assert annotated == set(ENTITY_VALUES)


def test_longer_lookup_entries_come_before_entries_they_start_with():
    # Rasa joins a lookup table into one regex alternation: the first entry that matches wins.
    for table in training().lookup_tables:
        entries = table["elements"]
        for i, short in enumerate(entries):
            later = [e for e in entries[i + 1 :] if re.match(re.escape(short) + r"\W", e)]
            assert later == [], (table["name"], short)


def test_every_lookup_match_in_training_is_annotated():
    data = training()
    patterns = {
        t["name"]: re.compile(
            "|".join(rf"\b{re.escape(e)}\b" for e in t["elements"]), flags=re.IGNORECASE
        )
        for t in data.lookup_tables
    }
    missing = []
    for message in data.intent_examples:
        text = message.get("text")
        spans = {(e["entity"], e["start"], e["end"]) for e in message.get("entities") or []}
        for name, pattern in patterns.items():
            for match in pattern.finditer(text):
                if (name, match.start(), match.end()) not in spans:
                    missing.append((text, name, match.group(0)))
    assert missing == []
