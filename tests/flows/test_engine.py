"""The flow engine on its own: the real catalogue, a fake turn, fake actions; no database, no bot."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from flows import catalog
from flows.engine import DialogueState, Engine
from flows.model import FLOWS_DIR, load_catalog
from tests.flows.turn import FakeActions, FakeTurn, action_names

NOW = datetime(2026, 11, 29, 14, 0, tzinfo=timezone.utc)
# Imports the engine and the flow tests; prints the modules that loaded, and none of bot.
PROBE = """
import sys
import tests.flows.test_catalog, tests.flows.test_engine
bad = sorted(m for m in sys.modules if m == "bot" or m.startswith("bot."))
print(*bad or [m for m in ("flows.engine", "tests.flows.test_catalog") if m in sys.modules])
"""
SUMMARY = "[samenvatting]"  # what the fake summary action shows

# A report told up to the last question before the summary.
TOLD = {
    "story": "Hij schreeuwde bij de vergadering dat hij wist waar ik woon",
    "story_more": True,
    "incident_type": "bedreiging",
    "occurred": {"moment": None, "precision": "unknown", "text": ""},
    "location": "het gemeentehuis",
    "targeted": "ikzelf",
    "evidence": {"files": [], "notes": []},
    "aangifte": "gedaan",
    "wants_support": "nee",
    "checkins": "ja",
}


@pytest.fixture
def actions() -> FakeActions:
    return FakeActions(action_names(catalog()), say={"summary": SUMMARY})


@pytest.fixture
def engine(actions: FakeActions) -> Engine:
    return Engine(catalog(), actions)


@pytest.fixture
def state() -> DialogueState:
    return DialogueState()


async def start(engine: Engine, state: DialogueState, flow: str, **slots: Any) -> FakeTurn:
    turn = FakeTurn(state, NOW)
    await engine.start(turn, flow, slots)
    return turn


async def answer(
    engine: Engine, state: DialogueState, text: str = "", payload: str | None = None
) -> FakeTurn:
    turn = FakeTurn(state, NOW, message=text, payload=payload)
    await engine.answer(turn)
    return turn


def test_the_fakes_cover_every_action_the_flows_name(actions: FakeActions) -> None:
    assert set(actions) == action_names(catalog())
    assert {"create_case", "create_support_request", "summary", "store_evidence"} <= set(actions)


async def test_a_flow_starts_with_its_first_question(engine: Engine, state: DialogueState) -> None:
    turn = await start(engine, state, "request_support")
    assert turn.said == [("Ben je nu in direct gevaar?", (("Ja", "ja"), ("Nee", "nee")))]
    assert [(f.flow, f.step) for f in state.stack] == [("request_support", "danger")]


async def test_a_choice_is_answered_by_its_label(engine: Engine, state: DialogueState) -> None:
    await start(engine, state, "request_support")
    await answer(engine, state, "nee")
    turn = await answer(engine, state, "Bel me")
    frame = state.stack[-1]
    assert frame.slots == {"in_danger": "nee", "contact_preference": "bellen"}
    assert frame.shown["contact_preference"] == "Bel me"
    assert turn.said == [
        (
            "Mag het team je telefoonnummer gebruiken om je te bellen? "
            "Het nummer wordt alleen daarvoor bewaard.",
            (("Ja", "ja"), ("Nee", "nee")),
        )
    ]


async def test_a_choice_is_answered_by_its_button(engine: Engine, state: DialogueState) -> None:
    await start(engine, state, "request_support")
    await answer(engine, state, payload="nee")
    turn = await answer(engine, state, payload="chatten")
    frame = state.stack[-1]
    assert frame.slots["contact_preference"] == "chatten"
    assert frame.step == "need"
    assert turn.said == [
        (
            "Wil je kort vertellen waar je hulp bij nodig hebt? Je mag dit ook overslaan.",
            (("Overslaan", "skip"),),
        )
    ]


async def test_two_unclear_answers_offer_skip_and_stop_and_skip_moves_on(
    engine: Engine, state: DialogueState
) -> None:
    await start(engine, state, "request_support")
    await answer(engine, state, "nee")
    question = (
        "Het Ondersteuningsteam Weerbaar Bestuur kan je bellen, of met je chatten via dit "
        "gesprek. Wat wil je?"
    )
    choices = (("Bel me", "bellen"), ("Chatten via deze chat", "chatten"))

    first = await answer(engine, state, "blauw")
    assert first.said == [("Dat begreep ik niet helemaal.", ()), (question, choices)]
    assert state.stack[-1].invalid == 1

    second = await answer(engine, state, "groen")
    [(text, buttons)] = second.said
    assert text.startswith("Ik begrijp het nog niet goed. ")
    assert text.endswith("Weet je het niet, tik dan op Overslaan.")
    assert buttons == (*choices, ("Overslaan", "skip"), ("Stoppen", "stop"))
    assert "contact_preference" not in state.stack[-1].slots

    skipped = await answer(engine, state, payload="skip")
    frame = state.stack[-1]
    assert frame.skipped == ["contact_preference"]
    assert frame.shown["contact_preference"] == catalog().text(None, "skipped")
    assert (frame.step, frame.invalid) == ("need", 0)
    assert skipped.said[0][0].startswith("Wil je kort vertellen")


async def test_weet_ik_niet_fills_a_slot_that_allows_unknown(
    engine: Engine, state: DialogueState
) -> None:
    told = {k: TOLD[k] for k in ("story", "story_more", "incident_type", "occurred")}
    asked = await start(engine, state, "report_incident", **told)
    assert asked.said == [
        (
            "Waar gebeurde het? Bijvoorbeeld thuis, op het gemeentehuis, "
            "of de naam van de gemeente.",
            (("Weet ik niet", "skip"),),
        )
    ]

    turn = await answer(engine, state, "weet ik niet")
    frame = state.stack[-1]
    assert "location" in frame.slots and frame.slots["location"] is None
    assert frame.shown["location"] == "weet ik niet"
    assert frame.skipped == []
    assert frame.step == "who"
    assert turn.said[0][0] == "Op wie was het gericht?"


async def test_an_action_is_called_by_name_and_the_flow_goes_on(
    engine: Engine, state: DialogueState, actions: FakeActions
) -> None:
    told = {k: v for k, v in TOLD.items() if k not in ("aangifte", "wants_support", "checkins")}
    await start(engine, state, "report_incident", **told)
    assert actions.called == ["prefill_from_story", "acknowledge_story", "prefill_from_story"]
    assert state.stack[-1].step == "aangifte"

    turn = await answer(engine, state, "Nee")
    assert actions.calls[-1] == ("aangifte_advice", "report_incident", "aangifte_advice")
    assert state.stack[-1].slots["aangifte"] == "nee"
    assert state.stack[-1].step == "support"
    assert turn.said[-1][1] == (("Ja", "ja"), ("Nee", "nee"))


async def test_an_answer_edited_from_the_summary_goes_back_to_the_summary(
    engine: Engine, state: DialogueState, actions: FakeActions
) -> None:
    shown = await start(engine, state, "report_incident", **TOLD)
    assert shown.said == [(SUMMARY, ())]
    assert actions.called[-1] == "summary"
    assert state.stack[-1].step == "summary"

    edit = await answer(engine, state, payload="edit:location")
    assert state.stack[-1].return_to == "summary"
    assert "location" not in state.stack[-1].slots
    assert edit.said[0][0].startswith("Waar gebeurde het?")

    back = await answer(engine, state, "Zwolle")
    frame = state.stack[-1]
    assert frame.slots["location"] == "Zwolle"
    assert (frame.step, frame.return_to) == ("summary", None)
    assert back.said == [(SUMMARY, ())]
    assert actions.called.count("summary") == 2

    await answer(engine, state, payload="confirm")
    assert actions.called[-1] == "create_case"
    assert state.stack == []


async def test_a_link_hands_over_to_another_flow(
    tmp_path: Path, actions: FakeActions, state: DialogueState
) -> None:
    for path in FLOWS_DIR.glob("*.yml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "onward.yml").write_text(
        "name: onward\ndescription: Door naar hulp.\nsteps:\n"
        "  - id: intro\n    say: handover\n  - id: onward\n    link: request_support\n"
        "texts:\n  handover: Dan vraag ik het Ondersteuningsteam om hulp.\n",
        encoding="utf-8",
    )
    engine = Engine(load_catalog(tmp_path), actions)

    turn = await start(engine, state, "onward")
    assert turn.said == [
        ("Dan vraag ik het Ondersteuningsteam om hulp.", ()),
        ("Ben je nu in direct gevaar?", (("Ja", "ja"), ("Nee", "nee"))),
    ]
    assert [(f.flow, f.step) for f in state.stack] == [("request_support", "danger")]


def test_the_engine_and_its_tests_need_nothing_of_bot() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.split() == ["flows.engine", "tests.flows.test_catalog"]
