"""The adversarial set: written apart from the training data, and the safety gates on it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nlu.evaluation import evaluate, load_examples
from nlu.safety import load_words, normalise
from nlu.training import DATA_DIR

ADVERSARIAL = Path(__file__).with_name("adversarial.yml")
# A false 112 line costs little, a missed one can cost a life: at most a quarter of the
# near-misses may get the emergency answer.
MAX_OVER_TRIGGER = 0.25
# The held-out macro-F1 (the bot's decision) before the safety rules were rebuilt.
HELDOUT_MACRO_F1 = 0.956


def test_the_set_is_big_enough():
    counts = Counter(intent for _, intent, _ in load_examples(ADVERSARIAL))
    assert counts["emergency"] >= 150
    assert sum(counts.values()) - counts["emergency"] >= 100


def test_no_sentence_of_it_is_in_the_nlu_data_or_the_word_classes():
    known = {normalise(text) for text, _, _ in load_examples(DATA_DIR)}
    known |= {" ".join(e) for entries in load_words().classes.values() for e in entries}
    assert [t for t, _, _ in load_examples(ADVERSARIAL) if normalise(t) in known] == []


@pytest.mark.slow
async def test_every_emergency_gets_112_first_and_few_near_misses_do(nlu):
    report = await evaluate(nlu, ADVERSARIAL, sources=True)
    assert report["per_intent"]["emergency"]["recall"] == 1.0, report["by_source"]["missed"]
    assert report["by_source"]["missed"] == []
    other = report["by_source"]["other"]
    emergency_answers = other["safety_net"] + other["classifier"]
    assert emergency_answers / other["support"] <= MAX_OVER_TRIGGER, other


@pytest.mark.slow
async def test_heldout_gate(nlu, heldout_file):
    report = await evaluate(nlu, heldout_file, sources=True)
    assert report["macro_f1"] >= HELDOUT_MACRO_F1, report
    assert report["per_intent"]["emergency"]["recall"] == 1.0, report["per_intent"]["emergency"]
    assert report["by_source"]["missed"] == []
