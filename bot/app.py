"""Wire the parts together from settings: store, NLU, knowledge, the features and the dialogue core."""

from __future__ import annotations

import logging

from bot.base import redaction
from bot.base.clock import Clock
from bot.base.settings import Settings
from bot.core import danger
from bot.core.app import App, StartupError
from bot.core.dialogue import Dialogue
from bot.core.features import Features
from bot.features import aftercare, evidence, guidance, invites, privacy, relay, reporting, support
from bot.features.dossier import reporter as dossier_reporter
from bot.features.support import escalation
from bot.store import open_store
from flows import FlowError, catalog
from knowledge import Knowledge, KnowledgeError
from nlu import NLU, NLUUnavailable
from nlu.service import load_nlu

# Every feature's registrations: the flows' actions, buttons by kind, jobs by name, the hooks.
FEATURES = Features.of(
    [
        danger.feature,
        reporting.feature,
        evidence.feature,
        support.feature,
        escalation.feature,
        relay.feature,
        guidance.feature,
        dossier_reporter.feature,
        aftercare.feature,
        privacy.feature,
        invites.feature,
    ]
)


def configure_logging(settings: Settings) -> None:
    """Plain log lines on stderr, with no secret in them; third-party chatter kept down."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    redaction.install(settings.secrets())
    for noisy in ("httpx", "aiosqlite", "sqlalchemy", "alembic", "rasa", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def build_app(settings: Settings, clock: Clock | None = None, nlu: NLU | None = None) -> App:
    """Open the store (migrating it), load flows, knowledge and the NLU model."""
    try:
        catalog()
        knowledge = Knowledge.load()
    except (FlowError, KnowledgeError) as error:
        raise StartupError(str(error)) from None
    try:
        store = await open_store(settings.database_url, clock)
    except Exception as error:  # the driver's own message says what is wrong
        raise StartupError(
            f"DATABASE_URL: cannot open the database ({type(error).__name__})"
        ) from None
    try:
        # Without NLU_URL: our own NLU service, as a child process (stopped by App.close).
        nlu = nlu or await load_nlu(remote_url=settings.nlu_url, token=settings.nlu_token)
    except NLUUnavailable as error:
        await store.close()
        raise StartupError(str(error)) from None
    dialogue = Dialogue(store, nlu, settings, knowledge, clock, features=FEATURES)
    return App(settings, store, nlu, knowledge, dialogue)
