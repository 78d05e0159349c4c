"""Updates taken in by polling: kept in the store, so Telegram can forget them at once.

Polling writes each batch of updates here in one INSERT and only then confirms it to Telegram
(the offset of the next getUpdates): no update is fetched, or parsed, twice. An update leaves
the inbox once its turn is stored (or set aside as a dead letter); one that is still here after
a restart is handled then, in update order. A copy of an update whose turn was stored is
recognised by the turn itself (its delivery key), so it is handled once either way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, select
from telegram import Bot, Update

from bot.store import Store, TelegramInbox


async def keep(store: Store, updates: Sequence[Update], handled: Collection[int]) -> None:
    """One transaction: the new updates in (copies change nothing), the handled ones out."""
    if not updates and not handled:
        return
    now = store.clock.now()
    rows = [{"update_id": u.update_id, "update": u.to_dict(), "received_at": now} for u in updates]
    async with store.session() as session:
        await store.add_new(session, TelegramInbox, rows, "update_id")
        if handled:
            await session.execute(
                delete(TelegramInbox)
                .where(TelegramInbox.update_id.in_(list(handled)))
                .execution_options(synchronize_session=False)
            )


async def waiting(store: Store, bot: Bot) -> list[Update]:
    """The updates a previous run took in and did not finish, oldest first."""
    async with store.reading() as session:
        rows = await session.execute(select(TelegramInbox.update).order_by(TelegramInbox.update_id))
        return [Update.de_json(data, bot) for data in rows.scalars()]
