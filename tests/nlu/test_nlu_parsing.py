"""Parse building, fallback, command escaping and the executor, with a fake classifier."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from nlu import FALLBACK_THRESHOLD, Entity, NLUUnavailable, Parse
from nlu.parsing import RasaNLU, escape, in_executor, to_parse


def rasa_answer(intent: str, confidence: float, *, entities=(), extra=()) -> dict:
    """A reply shaped like Rasa's parse_message / POST /model/parse."""
    ranking = [{"name": intent, "confidence": confidence}, *extra]
    return {"intent": ranking[0], "intent_ranking": ranking, "entities": list(entities)}


class FakeClassifier:
    """Records what reaches the classifier and answers from a fixed reply."""

    def __init__(self, answer: dict | None = None, error: Exception | None = None) -> None:
        self.answer = answer or rasa_answer("greet", 0.9)
        self.error = error
        self.seen: list[str] = []

    async def __call__(self, text: str) -> dict:
        self.seen.append(text)
        if self.error:
            raise self.error
        return self.answer


def test_escape_strips_the_command_slash_and_white_space():
    assert escape("/start") == "start"
    assert escape("  //help  ") == "help"
    assert escape("hallo /start") == "hallo /start"


async def test_a_command_never_reaches_the_classifier_as_a_payload():
    classify = FakeClassifier()
    await RasaNLU(classify).parse("/start")
    assert classify.seen == ["start"]


async def test_confident_answer_is_used():
    parse = await RasaNLU(FakeClassifier(rasa_answer("find_training", 0.8))).parse("cursus?")
    assert (parse.intent, parse.source, parse.fallback) == ("find_training", "classifier", False)
    assert parse.confidence == pytest.approx(0.8)


async def test_low_confidence_is_a_fallback_with_the_ranking_kept():
    answer = rasa_answer(
        "report_incident",
        FALLBACK_THRESHOLD / 2,
        extra=[{"name": "request_support", "confidence": FALLBACK_THRESHOLD / 3}],
    )
    parse = await RasaNLU(FakeClassifier(answer)).parse("ehm")
    assert parse.fallback is True
    assert [name for name, _ in parse.ranking] == ["report_incident", "request_support"]


async def test_safety_net_overrides_a_confident_classifier():
    classify = FakeClassifier(rasa_answer("find_protocol", 0.99))
    parse = await RasaNLU(classify).parse("Er staat iemand met een mes voor mijn deur")
    assert (parse.intent, parse.source, parse.fallback) == ("emergency", "safety_net", False)
    assert parse.ranking[0][0] == "find_protocol"


async def test_intents_outside_the_contract_are_dropped_from_the_ranking():
    answer = rasa_answer("start", 1.0, extra=[{"name": "greet", "confidence": 0.6}])
    parse = await RasaNLU(FakeClassifier(answer)).parse("start")
    assert parse.intent == "greet"
    assert parse.ranking == (("greet", 0.6),)


async def test_empty_message_is_a_fallback_without_asking_the_classifier():
    classify = FakeClassifier()
    parse = await RasaNLU(classify).parse("  / ")
    assert (parse.intent, parse.fallback) == ("out_of_scope", True)
    assert classify.seen == []


async def test_entity_offsets_point_into_the_original_text():
    entity = {"entity": "platform", "value": "x", "start": 3, "end": 10}
    duplicate = {**entity, "extractor": "CRFEntityExtractor"}
    answer = rasa_answer("report_incident", 0.9, entities=[entity, duplicate])
    parse = await RasaNLU(FakeClassifier(answer)).parse("  /op twitter bedreigd")
    assert parse.entities == (Entity("platform", "x", 6, 13, "twitter"),)
    assert parse.entity("platform") == "x"
    assert parse.entity("role") is None


async def test_malformed_entities_from_a_server_are_dropped():
    entities = [
        {"entity": "platform", "value": "x"},
        {"entity": "platform", "value": "x", "start": 40, "end": 47},
        {"entity": "role", "value": "raadslid", "start": 0, "end": 8},
    ]
    answer = rasa_answer("report_incident", 0.9, entities=entities)
    parse = await RasaNLU(FakeClassifier(answer)).parse("raadslid hier")
    assert parse.entities == (Entity("role", "raadslid", 0, 8, "raadslid"),)


async def test_classifier_down_still_recognises_danger():
    classify = FakeClassifier(error=NLUUnavailable("weg"))
    parse = await RasaNLU(classify).parse("help nu")
    assert (parse.intent, parse.source) == ("emergency", "safety_net")
    with pytest.raises(NLUUnavailable):
        await RasaNLU(classify).parse("hoe doe ik aangifte")


def test_parse_is_immutable():
    parse = to_parse("hoi", rasa_answer("greet", 0.9))
    assert isinstance(parse, Parse)
    with pytest.raises(AttributeError):
        parse.intent = "goodbye"  # type: ignore[misc]


async def test_blocking_classification_runs_in_the_worker_and_the_loop_stays_responsive():
    threads: list[str] = []

    def slow_rasa(text: str) -> dict:
        threads.append(threading.current_thread().name)
        time.sleep(0.3)
        return rasa_answer("greet", 0.9)

    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu") as executor:
        nlu = RasaNLU(in_executor(slow_rasa, executor))
        beating = asyncio.create_task(heartbeat())
        parse = await nlu.parse("hoi")
        beating.cancel()
    assert parse.intent == "greet"
    assert threads and threads[0].startswith("nlu")
    # A blocked loop would not tick at all during the 0.3 s of "classification".
    assert ticks >= 10
