"""Slack down, slow or busy: escalations wait and are then delivered exactly once."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from sqlalchemy import select

from bot.app import App
from bot.base.clock import FixedClock
from bot.channels.slack import SlackDesk
from bot.jobs.scheduler import Scheduler
from bot.store import OutboxMessage, Store
from flows import catalog
from tests.plugins.desk import ANNA, Desk, Reporter, hangs, load_case


async def _pending(store: Store) -> list[OutboxMessage]:
    async with store.session() as session:
        rows = await session.execute(
            select(OutboxMessage).where(
                OutboxMessage.destination == "support", OutboxMessage.delivered_at.is_(None)
            )
        )
        return list(rows.scalars())


async def test_server_errors_delay_then_one_card(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await reporter.raise_alarm()
    desk.fake.fail_next(3, status=503)  # Slack is down: every method fails
    waits = []
    for _ in range(3):
        assert await desk.deliver() == 0
        (message,) = await _pending(desk.store)
        waits.append(message.next_attempt_at - clock.now())
        assert await desk.deliver() == 0  # not due yet: nothing is tried
        clock.advance(waits[-1])
    assert waits == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8)]
    assert await desk.deliver() == 1
    # The first post failed; each retry first looks whether it arrived after all.
    assert desk.fake.calls["chat.postMessage"] == 2
    assert desk.fake.calls["conversations.history"] == 3
    assert len(desk.fake.top_level()) == 1
    assert await _pending(desk.store) == []
    assert (await load_case(desk.store, ref)).slack_ts == desk.fake.top_level()[0].ts


async def test_rate_limit_waits_as_long_as_slack_asks(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    await reporter.ask_for_support()
    desk.fake.rate_limit_next(1, retry_after=7)
    assert await desk.deliver() == 0
    (message,) = await _pending(desk.store)
    assert message.next_attempt_at == clock.now() + timedelta(seconds=7)
    assert message.last_error == "rate limited"
    clock.advance(timedelta(seconds=7))
    assert await desk.deliver() == 1
    assert len(desk.fake.top_level()) == 1


@hangs
async def test_a_card_posted_without_an_answer_is_not_posted_again(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await reporter.raise_alarm()
    desk.fake.hang_next(1, processed=True, method="chat.postMessage")  # Slack posts, answer lost
    assert await desk.deliver() == 0
    assert len(desk.fake.top_level()) == 1
    clock.advance(timedelta(seconds=2))
    assert await desk.deliver() == 1
    assert desk.fake.calls["conversations.history"] == 1
    assert desk.fake.calls["chat.postMessage"] == 1
    (card,) = desk.fake.top_level()
    assert (await load_case(desk.store, ref)).slack_ts == card.ts


@hangs
async def test_a_timeout_before_slack_posted_posts_once(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    await reporter.raise_alarm()
    desk.fake.hang_next(2, processed=False, method="chat.postMessage")
    for _ in range(2):
        assert await desk.deliver() == 0
        clock.advance(timedelta(seconds=30))
    assert await desk.deliver() == 1
    assert len(desk.fake.top_level()) == 1
    assert desk.fake.calls["chat.postMessage"] == 3


async def _relay_posted_without_an_answer(desk: Desk, reporter: Reporter) -> str:
    """A reporter's message posted to the card's thread, Slack's answer lost; the card's ts."""
    await reporter.ask_for_support()
    await desk.deliver()
    (card,) = desk.fake.top_level()
    await desk.team.reply(ANNA, card.ts, "Hoi, hoe gaat het?")
    await reporter.say("Het gaat wel, dank je")
    desk.fake.hang_next(1, processed=True, method="chat.postMessage")
    assert await desk.deliver() == 1  # the card refresh went out; the relay did not answer
    return card.ts


@hangs
async def test_a_relay_without_an_answer_is_not_relayed_twice(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    card_ts = await _relay_posted_without_an_answer(desk, reporter)
    clock.advance(timedelta(seconds=2))
    assert await desk.deliver() == 1
    assert desk.fake.calls["conversations.replies"] == 1
    assert [m.text for m in desk.fake.thread(card_ts)] == ["*Melder:* Het gaat wel, dank je"]


async def test_the_card_of_a_case_picked_up_meanwhile_shows_it(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    from bot.features.support import cases

    ref = await reporter.ask_for_support()
    desk.fake.fail_next(1, method="chat.postMessage")
    await desk.deliver()
    await cases.acknowledge(desk.store, ref, "Lokale medewerker")
    clock.advance(timedelta(seconds=2))
    await desk.deliver()
    (card,) = desk.fake.top_level()
    assert "Opgepakt" in str(card.blocks) and "Lokale medewerker" in str(card.blocks)


@hangs
async def test_after_a_restart_a_relay_without_an_answer_is_still_not_relayed_twice(
    desk: Desk, reporter: Reporter, clock: FixedClock, app: App, scheduler: Scheduler
) -> None:
    card_ts = await _relay_posted_without_an_answer(desk, reporter)

    # A new process knows nothing of that attempt but what the outbox says.
    restarted = SlackDesk(app, web.Application(), scheduler=scheduler, poll_seconds=None)
    await restarted.start()
    try:
        clock.advance(timedelta(seconds=2))
        assert await restarted.deliver() == 1
    finally:
        await restarted.stop()
    assert [m.text for m in desk.fake.thread(card_ts)] == ["*Melder:* Het gaat wel, dank je"]


async def _told(store: Store) -> list[str]:
    """What the reporter has been sent since the conversation, oldest first."""
    async with store.session() as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.destination == "user")
            .order_by(OutboxMessage.id)
        )
        return [m.payload["text"] for m in rows.scalars()]


async def test_slack_down_for_two_minutes_the_reporter_reads_what_is_true_at_each_moment(
    desk: Desk, app: App, reporter: Reporter, clock: FixedClock
) -> None:
    texts = catalog().flows["request_support"].texts
    desk.fake.down(status=500)
    ref = await reporter.raise_alarm()
    answer = reporter.text
    assert answer.splitlines()[0] == "Je hulpvraag staat klaar onder nummer " + ref + (
        " en is onderweg naar het Ondersteuningsteam Weerbaar Bestuur. "
        "Ik laat het je weten zodra het team hem heeft."
    )
    assert "gewaarschuwd" not in answer and "minuten" not in answer

    seen: dict[int, list[str]] = {}
    cards: dict[int, int] = {}
    for second in range(0, 181, 5):  # Slack is back after two minutes
        if second == 120:
            desk.fake.up()
        await desk.deliver()
        seen[second] = await _told(desk.store)
        cards[second] = len(desk.fake.top_level())
        clock.advance(timedelta(seconds=5))

    assert seen[55] == []  # under a minute: nothing new is true yet
    (not_reached,) = seen[60]
    assert not_reached.startswith("In direct gevaar: bel 112.\n")  # 112 first
    assert f"(nummer {ref})" in not_reached
    assert "070-373 83 14" in not_reached  # the team's number from knowledge/contacts.yml
    assert "niet kunnen controleren" in not_reached  # with its caveat
    assert seen[115] == seen[60]  # said once, while Slack stays down
    assert cards[115] == 0
    alerted = seen[180][1:]
    assert alerted == [
        texts["support_alerted"].format(ref=ref, minutes=15, how=texts["how_chat"]).strip()
    ]
    (card,) = desk.fake.top_level()  # the card arrived once
    assert card.metadata is not None and card.metadata["event_payload"]["key"] == f"card:{ref}"
    case = await load_case(desk.store, ref)
    posted = next(e.at for e in case.events if e.kind == "card_posted")
    assert posted - case.created_at >= timedelta(seconds=120)

    # Nobody picks it up within the promised 15 minutes (counted from the card).
    clock.advance(posted + timedelta(minutes=15) - clock.now() - timedelta(seconds=1))
    await desk.deliver()
    assert len(await _told(desk.store)) == 2
    clock.advance(timedelta(seconds=1))
    await desk.deliver()
    await desk.deliver()
    overdue = (await _told(desk.store))[2:]
    assert len(overdue) == 1
    assert overdue[0].startswith(
        "Het Ondersteuningsteam Weerbaar Bestuur heeft nog niet gereageerd binnen de 15 minuten"
    )
    assert "staat open; het team wordt eraan herinnerd" in overdue[0]
    assert overdue[0].endswith("In direct gevaar: bel 112.")
    assert len(desk.fake.top_level()) == 1


async def test_an_escalation_picked_up_in_time_promises_nothing_more(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await reporter.ask_for_support()
    await desk.deliver()
    (alerted,) = await _told(desk.store)
    assert alerted.startswith(
        f"Ik heb het Ondersteuningsteam Weerbaar Bestuur gewaarschuwd (nummer {ref})"
    )
    assert "binnen 15 minuten contact met je op, hier in deze chat" in alerted
    await desk.team.click(ANNA, "ack", ref)
    clock.advance(timedelta(minutes=30))
    await desk.deliver()
    told = await _told(desk.store)
    assert len(told) == 2 and "gereageerd" not in told[1]  # only who picked it up
