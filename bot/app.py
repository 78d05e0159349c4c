"""Wire the parts together from settings: store, NLU, knowledge, dialogue core."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.clock import Clock
from bot.dialogue import Dialogue
from bot.settings import Settings
from bot.store import Store, open_store
from knowledge import Knowledge
from nlu import NLU, load_nlu


class StartupError(RuntimeError):
    """Start-up cannot go on; the message is one line saying why."""


@dataclass
class App:
    """The running parts, built once per process."""

    settings: Settings
    store: Store
    nlu: NLU
    knowledge: Knowledge
    dialogue: Dialogue

    async def close(self) -> None:
        await self.nlu.aclose()
        await self.store.close()


def configure_logging(settings: Settings) -> None:
    """Plain log lines on stderr, with no secret in them; third-party chatter kept down."""
    from bot import redaction

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    redaction.install(settings.secrets())
    for noisy in ("httpx", "aiosqlite", "sqlalchemy", "alembic", "rasa", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def build_app(settings: Settings, clock: Clock | None = None, nlu: NLU | None = None) -> App:
    """Open the store (migrating it), load flows, knowledge and the NLU model."""
    from flows import FlowError, catalog
    from knowledge import KnowledgeError
    from nlu import NLUUnavailable

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
    dialogue = Dialogue(store, nlu, settings, knowledge, clock)
    return App(settings, store, nlu, knowledge, dialogue)
