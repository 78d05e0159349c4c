"""No message text or personal data in the logs: a whole scenario, then every log line is read."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.app import FEATURES, App
from bot.base.messages import Attachment, Incoming
from bot.core.dialogue import Dialogue
from bot.store import Store
from nlu import NLU
from tests.plugins.desk import ANNA, Desk
from tests.trust.reporters import Persona, complete

PRODUCTION_QUIET = ("httpx", "aiosqlite", "sqlalchemy", "alembic", "rasa", "apscheduler")


@pytest.fixture
def production_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Log levels as `python -m bot` sets them: INFO, third parties at WARNING."""
    before = {name: logging.getLogger(name).level for name in PRODUCTION_QUIET}
    for name in PRODUCTION_QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    caplog.set_level(logging.INFO)
    yield caplog
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_whole_scenario_leaves_no_typed_word_in_the_logs(
    desk: Desk,
    app: App,
    store: Store,
    nlu_model: NLU,
    production_logging: pytest.LogCaptureFixture,
) -> None:
    typed: list[str] = []

    async def say(dialogue: Dialogue, user: str, text: str = "", button: str | None = None) -> str:
        if text:
            typed.append(text)
        replies = await dialogue.handle(Incoming(user, text, button))
        return "\n".join(r.text for r in replies)

    await desk.team.command(ANNA, "uitnodiging wethouder Zorgdorpstad")
    code = desk.team.answer["text"].split("Code: ")[1].split()[0]
    typed += [code, "Zorgdorpstad"]
    user = "telegram:5551234"
    persona = Persona(42, wants_support=True)
    typed += [persona.story, persona.place, "zorgschermfoto.png", "Zie de zorgbijlage"]
    dialogue = app.dialogue
    assert "geverifieerd" in await say(dialogue, f"local:{persona.name}", f"/start {code}")
    photo = Attachment("photo", b"zorgpixels", "image/png", "zorgschermfoto.png")
    ref = await complete(dialogue, persona, files=(photo,), note="Zie de zorgbijlage")
    reporter_user = f"local:{persona.name}"

    await say(dialogue, user, "/hulp")
    await say(dialogue, user, button="nee")
    await say(dialogue, user, button="bellen")
    await say(dialogue, user, button="ja")
    await say(dialogue, user, "06 55512345")
    await say(dialogue, user, "Ik wil praten over zorgbuurman en zijn brieven")
    await desk.deliver()

    card = next(m for m in desk.fake.top_level() if ref in m.text)
    await desk.team.click(ANNA, "ack", ref)
    typed.append("Hallo, met zorgmedewerker hier. Hoe gaat het?")
    await desk.team.reply(ANNA, card.ts, typed[-1])
    await say(dialogue, reporter_user, "Het gaat wel, zorgantwoord is dat ik slecht slaap")
    await say(dialogue, reporter_user, "/stop")
    await desk.deliver()

    understanding = Dialogue(
        store, nlu_model, dialogue.settings, dialogue.knowledge, features=FEATURES
    )
    await say(understanding, user, "Hoe doe ik aangifte over zorgvraagwoord bij de politie?")
    await say(understanding, user, "Er staat iemand met een mes voor mijn deur, zorggevaar")
    await say(understanding, user, "x" * 5000 + "zorglang")
    await say(understanding, user, button="zorgknop-vervalst")
    await say(dialogue, reporter_user, "/privacy")
    await say(dialogue, reporter_user, button="privacy:export")
    await say(dialogue, reporter_user, "/privacy")
    await say(dialogue, reporter_user, button="privacy:erase")
    assert "gewist" in await say(dialogue, reporter_user, button="privacy:erase:yes")
    await desk.deliver()

    records = production_logging.records
    assert len(records) > 40  # the scenario was logged, just not what was said
    lines = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in records
    )
    words = {w.strip(".,?!") for text in typed for w in text.split() if w.startswith("zorg")}
    words |= {code, "Zorgdorpstad", "55512345", "5551234", persona.story, persona.place}
    assert len(words) > 12
    leaked = sorted(w for w in words if w and w in lines)
    assert leaked == []
    assert "Traceback" not in lines and not [r for r in records if r.levelno >= logging.ERROR]


def test_the_production_quiet_list_matches_the_app() -> None:
    import inspect

    from bot.app import configure_logging

    source = inspect.getsource(configure_logging)
    assert all(f'"{name}"' in source for name in PRODUCTION_QUIET)


def test_no_configured_secret_survives_in_any_log_line_tracebacks_included(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.base.crypto import new_key
    from bot.base.redaction import MASK, Redactor
    from bot.base.settings import Settings

    settings = Settings(
        database_url="postgresql+asyncpg://weerbaar:Db-Wachtwoord-42@db.example/weerbaar",
        telegram_bot_token="123456:AAH-geheim-telegram-token-0123456789",
        telegram_webhook_secret="webhook-geheim-98765",
        slack_bot_token="xoxb-1111-2222-slackgeheim",
        slack_app_token="xapp-1-A0-3333-appgeheim",
        slack_signing_secret="8f14e45fceea167a5a36dedd4bea2543",
        encryption_keys=(new_key(), new_key()),
    )
    secrets = settings.secrets()
    assert len(secrets) == 8
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    redactor = Redactor(secrets)
    handler.addFilter(redactor)
    log = logging.getLogger("weerbaar.test.secrets")
    log.addHandler(handler)
    log.propagate = False
    try:
        for secret in secrets:
            log.warning("as an argument: %s", secret)
            log.warning(f"in the message: {secret}")
            log.warning("in a URL: https://api.example/bot%s/getMe", quote(secret, safe=""))
            try:
                raise RuntimeError(f"the call with {secret} failed")
            except RuntimeError:
                log.exception("a traceback")
            try:
                raise ValueError(secret)
            except ValueError as error:
                redactor.excepthook(ValueError, error, error.__traceback__)  # uncaught
    finally:
        log.removeHandler(handler)
    lines = stream.getvalue() + capsys.readouterr().err
    assert lines.count("Traceback") == 2 * len(secrets) and MASK in lines
    leaked = [s for s in secrets if s in lines or quote(s, safe="") in lines]
    assert leaked == []


async def test_a_token_telegram_rejects_stops_start_up_with_one_line_and_no_secret(
    tmp_path: Path, rasa: str
) -> None:
    from tests.fakes.slack_api import FakeSlack
    from tests.fakes.telegram_api import FakeTelegram
    from tests.plugins.desk import BOT_TOKEN, CHANNEL, SIGNING_SECRET
    from tests.plugins.keys import KEY_A
    from tests.trust.processes import Worker, telegram_env

    telegram, slack = FakeTelegram(), FakeSlack()
    await telegram.start()
    await slack.start()
    rejected = "987654:REJECTED-token-abcdefghijklmnop"
    env = telegram_env(
        f"sqlite:///{tmp_path / 'weerbaar.db'}",
        rasa,
        telegram.base_url,
        TELEGRAM_BOT_TOKEN=rejected,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_SUPPORT_CHANNEL=CHANNEL,
        SLACK_API_BASE_URL=slack.url,
    )
    worker = Worker("rejected", env, tmp_path)
    try:
        await worker.start()
        assert worker.process is not None
        assert await asyncio.wait_for(worker.process.wait(), 120) == 2
    finally:
        await worker.stop()
        await telegram.close()
        await slack.stop()
    log = worker.log_text()
    assert log.strip().splitlines()[-1] == (
        "Cannot start: TELEGRAM_BOT_TOKEN: Telegram rejected this token"
    )
    assert "Traceback" not in log
    for secret in (rejected, rejected.split(":")[1], BOT_TOKEN, SIGNING_SECRET, KEY_A):
        assert secret not in log
