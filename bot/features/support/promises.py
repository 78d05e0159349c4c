"""What a reporter hears about a request for help follows what really happened in Slack.

"Gewaarschuwd" only once the card is in the support channel; no card within a minute: the truth,
112 and the team's own number; the promised response time passed without anyone picking it up:
the truth and what happens now. Each is said once (a key in `deliveries`), by whichever worker
gets there first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, exists, literal, select

from bot.base.settings import Settings
from bot.store import Case, CaseEvent, Delivery, Store
from flows import text
from knowledge import Knowledge

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

TEAM = "Ondersteuningsteam Weerbaar Bestuur"  # its entry in knowledge/contacts.yml
NO_CARD_AFTER = timedelta(minutes=1)
LOOK_BACK = timedelta(days=1)  # older requests were told long ago
ALERTED, NOT_REACHED, OVERDUE = "promise:alerted:", "promise:not_reached:", "promise:overdue:"


def _text(key: str, **values: object) -> str:
    return text("request_support", key, **values).strip()


def _team_phone(knowledge: Knowledge) -> dict[str, str]:
    contact = knowledge.contact(TEAM)
    if contact is None or contact.phone is None:
        raise LookupError(f"knowledge/contacts.yml lists no phone number for {TEAM}")
    return {"phone": contact.phone, "caveat": contact.caveat or ""}


async def _tell(store: Store, session: AsyncSession, case: Case, key: str, text: str) -> None:
    """Queue the message once per case and key."""
    if await store.first_delivery(session, key + case.ref):
        payload = {"user": case.reporter.user_key, "text": text, "buttons": []}
        await store.enqueue(session, "user", payload, reporter_id=case.reporter_id, case_id=case.id)


async def card_posted(store: Store, session: AsyncSession, case: Case, settings: Settings) -> None:
    """The card is in the support channel: now the reporter may read that the team knows."""
    if case.kind != "support" or case.status != "open":
        return
    how = _text("how_call" if case.contact_preference == "bellen" else "how_chat")
    text = _text(
        "support_alerted", ref=case.ref, minutes=settings.support_response_minutes, how=how
    )
    await _tell(store, session, case, ALERTED, text)


def _not_told(key: str) -> ColumnElement[bool]:
    return ~exists().where(Delivery.key == literal(key) + Case.ref)


async def keep(store: Store, settings: Settings, knowledge: Knowledge) -> None:
    """Tell each reporter the truth about a request that has no card, or no answer, in time."""
    now = store.clock.now()
    promised = timedelta(minutes=settings.support_response_minutes)
    waiting = and_(
        Case.kind == "support", Case.status == "open", Case.created_at >= now - LOOK_BACK
    )
    async with store.session() as session:
        no_card = await session.execute(
            select(Case).where(
                waiting,
                Case.slack_ts.is_(None),
                Case.created_at <= now - NO_CARD_AFTER,
                _not_told(NOT_REACHED),
            )
        )
        overdue = await session.execute(
            select(Case)
            .join(CaseEvent, CaseEvent.case_id == Case.id)
            .where(
                waiting,
                CaseEvent.kind == "card_posted",
                CaseEvent.at <= now - promised,
                _not_told(OVERDUE),
            )
        )
        late = [(NOT_REACHED, c) for c in no_card.scalars()]
        late += [(OVERDUE, c) for c in overdue.scalars().unique()]
        if not late:
            return
        phone = _team_phone(knowledge)
        for key, case in late:
            if key == NOT_REACHED:
                text = _text("support_not_reached", ref=case.ref, **phone)
            else:
                minutes = settings.support_response_minutes
                text = _text("support_overdue", ref=case.ref, minutes=minutes, **phone)
            await _tell(store, session, case, key, text)
