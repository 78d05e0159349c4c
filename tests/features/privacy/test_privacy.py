"""Privacy: what is kept and why, one's own data as a file, deletion, and the retention purge."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.__main__ import main
from bot.app import FEATURES, App
from bot.base.clock import FixedClock
from bot.base.messages import Attachment, Incoming, file_from_payload
from bot.base.settings import Settings
from bot.channels.local import user_line
from bot.core.dialogue import Dialogue
from bot.features import privacy
from bot.jobs.scheduler import Scheduler
from bot.store import Case, CaseEvent, Conversation, Evidence, OutboxMessage, Reporter, Store
from knowledge import Knowledge
from tests.fakes.keyword_nlu import KeywordNLU
from tests.plugins.chat import Chat
from tests.plugins.desk import Desk
from tests.trust.reporters import Persona, complete

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PHOTO = Attachment(
    "photo", b"\x89PNG\r\n\x1a\n" + b"x" * 100, "image/png", "bedreiging-op-de-deur.png"
)


@pytest.fixture
def dialogue(store: Store, knowledge: Knowledge, clock: FixedClock) -> Dialogue:
    return Dialogue(
        store, KeywordNLU(), Settings(retention_days=30), knowledge, clock, features=FEATURES
    )


async def _press(dialogue: Dialogue, user: str, payload: str) -> list[Any]:
    return await dialogue.handle(Incoming(user, button=payload))


async def _rows(store: Store, model: Any) -> list[Any]:
    async with store.session() as session:
        return list((await session.execute(select(model))).scalars())


async def _ask_for_a_call(dialogue: Dialogue, user: str) -> None:
    """/hulp: not in danger, call me, yes use my number, and a short need."""
    for message in (
        Incoming(user, "/hulp"),
        Incoming(user, button="nee"),
        Incoming(user, button="bellen"),
        Incoming(user, button="ja"),
        Incoming(user, "06 12345678"),
        Incoming(user, "Ik wil praten over de brief van zorgbrief"),
    ):
        replies = await dialogue.handle(message)
    assert "onderweg naar het Ondersteuningsteam" in replies[-1].text


async def test_privacy_says_what_why_how_long_and_who_with_two_buttons(
    make_chat: Any,
) -> None:
    chat: Chat = make_chat(settings=Settings(retention_days=90, draft_ttl_hours=12))
    await chat.send("/privacy")
    text = chat.replies[0].text
    for part in ("Wat ik bewaar:", "Waarom:", "Hoe lang:", "Wie het ziet:", "12 uur", "90 dagen"):
        assert part in text
    assert "versleuteld" not in text  # only said when it is true
    assert chat.labels == ["Mijn gegevens downloaden", "Mijn gegevens wissen"]


async def test_privacy_mentions_encryption_when_it_is_on(make_chat: Any, keys: Any) -> None:
    chat: Chat = make_chat()
    await chat.send("/privacy")
    assert "versleuteld opgeslagen" in chat.replies[0].text


async def test_the_export_is_a_json_file_with_everything_kept_about_me(
    dialogue: Dialogue, store: Store
) -> None:
    persona = Persona(7, wants_support=True)
    user = f"local:{persona.name}"
    ref = await complete(dialogue, persona, files=(PHOTO,), note="Foto van de voordeur")
    await dialogue.handle(Incoming(user, "/melden"))
    await dialogue.handle(Incoming(user, "Een tweede verhaal dat nog niet af is"))
    replies = await dialogue.handle(Incoming(user, "/privacy"))
    assert [b.label for r in replies for b in r.buttons][:2] == [
        "Mijn gegevens downloaden",
        "Mijn gegevens wissen",
    ]
    replies = await _press(dialogue, user, "privacy:export")
    (with_file,) = [r for r in replies if r.file]
    assert with_file.file is not None
    assert with_file.file.filename == "weerbaar-mijn-gegevens-2026-11-29.json"
    assert with_file.file.mime == "application/json"
    data = json.loads(with_file.file.data)
    (case,) = data["cases"]
    assert (case["ref"], case["story"], case["location"]) == (ref, persona.story, persona.place)
    assert case["evidence"][0]["filename"] == "bedreiging-op-de-deur.png"
    assert "content" not in case["evidence"][0] and "owner" not in case
    assert {"at", "kind", "by"} <= set(case["timeline"][0])
    assert any(e.get("notes") == ["Foto van de voordeur"] for e in case["timeline"])
    assert data["unfinished"][0]["answers"]["story"] == "Een tweede verhaal dat nog niet af is"
    assert data["reporter"]["verified"] is False
    assert "We gaan verder waar we waren" in "\n".join(r.text for r in replies)

    line = user_line(user, with_file)  # the JSON chat shows the file's JSON content
    assert line["file"]["name"] == with_file.file.filename and line["file"]["json"] == data


async def test_a_queued_export_carries_its_file_through_the_outbox(
    dialogue: Dialogue, store: Store
) -> None:
    user = "local:telegramlike"
    await dialogue.handle(Incoming(user, "/privacy"), queue_replies=True)
    await dialogue.handle(Incoming(user, button="privacy:export"), queue_replies=True)
    payloads = [m.payload for m in await _rows(store, OutboxMessage) if "file" in m.payload]
    (payload,) = payloads
    file = file_from_payload(payload["file"])
    assert file is not None and json.loads(file.data)["cases"] == []


@SQLITE
async def test_erasing_after_confirmation_keeps_only_anonymous_counts(
    desk: Desk, app: App, scheduler: Scheduler, clock: FixedClock
) -> None:
    dialogue, store = app.dialogue, app.store
    persona = Persona(8, wants_support=True)
    user = f"local:{persona.name}"
    ref = await complete(dialogue, persona, files=(PHOTO,), note="Foto van de voordeur")
    await _ask_for_a_call(dialogue, user)
    await desk.deliver()
    support_ref = max(c.ref for c in await _rows(store, Case))
    await scheduler.schedule(f"followup:{ref}", privacy.RETENTION_JOB, clock.now())
    await scheduler.schedule("retention", privacy.RETENTION_JOB, clock.now())
    await dialogue.handle(Incoming(user, "/melden"))
    await dialogue.handle(Incoming(user, "Nog een verhaal met zorgconcept erin"))
    neighbour = Persona(9)
    other_ref = await complete(dialogue, neighbour)

    assert "verlopen" in (await _press(dialogue, user, "privacy:erase:yes"))[0].text
    await dialogue.handle(Incoming(user, "/privacy"))
    replies = await _press(dialogue, user, "privacy:erase")
    assert "Weet je het zeker?" in replies[0].text
    assert [b.label for b in replies[0].buttons] == ["Ja, alles wissen", "Nee, niets wissen"]
    assert "Er is niets gewist" in (await _press(dialogue, user, "privacy:erase:no"))[0].text
    assert len([c for c in await _rows(store, Case) if c.deleted_at]) == 0

    await dialogue.handle(Incoming(user, "/privacy"))
    await _press(dialogue, user, "privacy:erase")
    replies = await _press(dialogue, user, "privacy:erase:yes")
    assert "2 meldingen en 1 bestand" in replies[0].text

    cases = {c.ref: c for c in await _rows(store, Case)}
    for gone in (ref, support_ref):
        case = cases[gone]
        assert case.status == "closed" and case.deleted_at and privacy.is_erased(case)
        assert (case.story, case.location, case.phone, case.occurred_at) == (None,) * 4
        assert case.reporter.user_key == privacy.ANONYMOUS
        assert case.closed_reason == privacy.DELETED_REASON
    assert cases[ref].incident_type == "bedreiging"  # what counts anonymously stays
    assert cases[other_ref].story == neighbour.story  # someone else's report is untouched
    assert await _rows(store, Evidence) == []
    details = [e.detail for e in await _rows(store, CaseEvent) if e.case_id != cases[other_ref].id]
    assert all(d == {} for d in details)
    async with store.session() as session:
        me = await store.reporter(session, user)
        conversation = await session.get(Conversation, me.id)
        assert conversation is not None and conversation.state["stack"] == []
        assert (me.role, me.municipality, me.verified) == (None, None, False)
    assert await scheduler.run_time(f"followup:{ref}") is None
    assert await scheduler.run_time("retention") is not None
    for message in await _rows(store, OutboxMessage):
        text = json.dumps(message.payload)
        assert persona.story not in text and "12345678" not in text

    await desk.deliver()  # the card loses the story; the thread hears why
    card = next(m for m in desk.fake.top_level() if support_ref in m.text)
    assert "gewist" in json.dumps(card.blocks) and "Ik wil praten" not in json.dumps(card.blocks)
    assert privacy.DELETED_REASON in desk.fake.thread(card.ts)[-1].text
    listing = await dialogue.handle(Incoming(user, "/mijnmeldingen"))
    assert "nog geen meldingen" in listing[0].text
    again = await _press(dialogue, user, "privacy:erase:yes")  # a replayed press
    assert "verlopen" in again[0].text


async def test_retention_purges_closed_cases_stale_drafts_and_old_messages(
    dialogue: Dialogue, store: Store, clock: FixedClock
) -> None:
    from bot.features.support import cases

    old, kept_open, recent = Persona(1, wants_support=True), Persona(2), Persona(3)
    old_ref = await complete(dialogue, old, files=(PHOTO,))
    open_ref = await complete(dialogue, kept_open)
    await cases.close(store, old_ref, "Lokale medewerker", "afgehandeld")
    await dialogue.handle(Incoming("local:drafter", "/melden"))
    await dialogue.handle(Incoming("local:drafter", "Een verhaal dat nooit af kwam, zorgdraft"))
    async with store.session() as session:
        for message in await store.due_outbox(session, "support"):
            await store.mark_delivered(session, message)
    clock.advance(timedelta(days=31))
    recent_ref = await complete(dialogue, recent)
    await cases.close(store, recent_ref, "Lokale medewerker", "afgehandeld")

    counts = await privacy.purge(store, dialogue.settings)
    assert counts == {"cases": 1, "files": 1, "drafts": 1, "messages": 1}
    found = {c.ref: c for c in await _rows(store, Case)}
    assert found[old_ref].story is None and found[old_ref].purged_at is not None
    assert found[old_ref].deleted_at is None and found[old_ref].status == "closed"
    assert found[open_ref].story == kept_open.story
    assert found[recent_ref].story == recent.story
    assert await _rows(store, Evidence) == []
    drafter = next(r for r in await _rows(store, Reporter) if r.user_key == "local:drafter")
    async with store.session() as session:
        conversation = await session.get(Conversation, drafter.id)
        assert conversation is not None and conversation.state == {}
    assert await privacy.purge(store, dialogue.settings) == {
        "cases": 0,
        "files": 0,
        "drafts": 0,
        "messages": 0,
    }


@SQLITE
async def test_the_retention_job_runs_daily_on_the_scheduler_and_from_the_command_line(
    dialogue: Dialogue,
    store: Store,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.features.support import cases

    scheduler = Scheduler(
        store, Settings(database_url=store.url, retention_days=30), FEATURES.jobs, autorun=False
    )
    await scheduler.start()
    try:
        first = await privacy.plan_retention(scheduler)
        assert first.isoformat() == "2026-11-30T03:30:00+01:00"
        old = Persona(4)
        ref = await complete(dialogue, old)
        await cases.close(store, ref, "Lokale medewerker", "afgehandeld")
        clock.advance(timedelta(days=31))
        assert await scheduler.run_due() >= 1
        case = next(c for c in await _rows(store, Case) if c.ref == ref)
        assert privacy.is_erased(case)
        next_time = await scheduler.run_time("retention")
        assert next_time is not None and next_time.isoformat() == "2026-12-31T03:30:00+01:00"
    finally:
        await scheduler.stop()

    monkeypatch.setenv("DATABASE_URL", store.url)

    def run() -> tuple[int, str]:
        code = main(["retention", "run", "--json"])
        return code, capsys.readouterr().out

    code, out = await asyncio.to_thread(run)
    assert code == 0 and set(json.loads(out)) == {"cases", "files", "drafts", "messages"}
