"""/weerbaar cijfers (a PNG chart in a direct message) and the Home tab, through the fake Slack."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from bot.app import App
from bot.base.clock import FixedClock
from bot.features.insights import chart
from tests.plugins.desk import ANNA, EVE, Desk, Reporter


def _blocks_text(blocks: list[dict]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if "text" in b)


async def _one_picked_up(desk: Desk, reporter: Reporter, clock: FixedClock) -> str:
    ref = await reporter.ask_for_support()
    await desk.deliver()
    clock.advance(timedelta(minutes=7))
    assert await desk.team.click(ANNA, "ack", ref) == 200
    return ref


async def test_figures_answer_with_the_service_level_and_send_the_chart_as_png(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await _one_picked_up(desk, reporter, clock)

    assert await desk.team.command(ANNA, "cijfers 2026-01 2026-11") == 200

    assert desk.team.answer == {
        "response_type": "ephemeral",
        "text": "Ik zet de cijfers op een rij. Het antwoord volgt zo.",
    }
    [answer] = desk.fake.responses
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    text = _blocks_text(answer["blocks"])
    assert "Weerbaar in cijfers, 2026-01 t/m 2026-11" in text
    assert "binnen 15 minuten" in text and "2026-W48: 1 naar het team" in text
    assert "eerste reactie p50 7 / p90 7 min" in text and "100% binnen de belofte" in text
    assert ref not in text and "bedreigd" not in text
    [upload] = desk.fake.uploads
    assert upload.channel == "D" + ANNA.removeprefix("U") and upload.thread_ts is None
    assert upload.filename == "weerbaar-cijfers-2026-01-2026-11.png"
    image = Image.open(io.BytesIO(upload.content))
    image.verify()
    assert (image.format, image.size) == ("PNG", (chart.WIDTH, chart.HEIGHT))
    assert "2026-01 t/m 2026-11" in (upload.initial_comment or "")


async def test_an_outsider_and_a_bad_period_get_an_answer_and_no_chart(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    await _one_picked_up(desk, reporter, clock)

    assert await desk.team.command(EVE, "cijfers") == 200
    assert desk.team.answer == {
        "response_type": "ephemeral",
        "text": "Alleen leden van het ondersteuningskanaal kunnen dit doen.",
    }
    await desk.team.command(ANNA, "cijfers 2026-13")
    assert "geen maand" in desk.team.answer["text"]
    await desk.team.command(ANNA, "cijfers 2026-06 2026-01")
    assert "ligt na de eindmaand" in desk.team.answer["text"]
    assert desk.fake.uploads == [] and desk.fake.responses == []


async def test_the_home_tab_shows_the_load_to_members_and_refuses_outsiders(
    desk: Desk, reporter: Reporter, app: App, clock: FixedClock
) -> None:
    await _one_picked_up(desk, reporter, clock)
    waiting = await Reporter(app.dialogue, "telegram:2002").ask_for_support()
    await desk.deliver()

    for user in (ANNA, EVE):
        event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
        assert await desk.team.post(desk.team.event(event), "application/json") == 200

    mine, theirs = desk.fake.published
    assert mine["user_id"] == ANNA and mine["view"]["type"] == "home"
    text = _blocks_text(mine["view"]["blocks"])
    assert "*Open:* 2 · *zonder eigenaar:* 1 · *van jou:* 1" in text
    assert f"*{waiting}*" in text and "Wacht het langst" in text
    assert "Binnengekomen: 2 (meldingen en hulpvragen)" in text and "2 naar het team" in text
    assert theirs["user_id"] == EVE
    assert _blocks_text(theirs["view"]["blocks"]) == (
        "Dit overzicht is alleen voor leden van het ondersteuningskanaal."
    )


async def test_when_the_chart_cannot_be_sent_the_asker_hears_it(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    await _one_picked_up(desk, reporter, clock)
    desk.fake.fail_next(5, method="files.getUploadURLExternal")

    assert await desk.team.command(ANNA, "cijfers 2026") == 200

    assert desk.fake.uploads == []
    figures, failed = desk.fake.responses
    assert "Weerbaar in cijfers, 2026-01 t/m 2026-12" in _blocks_text(figures["blocks"])
    assert failed["text"] == "De grafiek kon ik nu niet sturen. Probeer het zo opnieuw."
