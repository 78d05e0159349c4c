"""Tables of the case store."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
)
from sqlalchemy.orm import declarative_base, relationship

from bot.base.crypto import SealedBytes, SealedJSON, SealedText

Base: Any = declarative_base()
# Classic Column() declarations: to the type checker the mapped attributes are Any, as they were
# under SQLAlchemy 1.4 (SQLAlchemy 2.0 would type them Column[...], not the values they hold).
Column: Any = sqlalchemy.Column


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Reporter(Base):
    """A person who talks to the bot on one channel."""

    __tablename__ = "reporters"
    id = Column(Integer, primary_key=True)
    user_key = Column(String(128), nullable=False, unique=True)  # "<channel>:<id>"
    role = Column(String(40))
    municipality = Column(String(120))
    verified = Column(Boolean, nullable=False, default=False)
    created_at = Column(UTCDateTime, nullable=False)
    verified_at = Column(UTCDateTime)
    # Wrong invite codes tried, counted per day, so codes cannot be guessed by trying many.
    redeem_failures = Column(Integer, nullable=False, default=0, server_default="0")
    redeem_failed_at = Column(UTCDateTime)


class ReferenceCounter(Base):
    """Last case number handed out per year; references are never reused."""

    __tablename__ = "reference_counters"
    year = Column(Integer, primary_key=True, autoincrement=False)
    last = Column(Integer, nullable=False)


class Case(Base):
    """A report or support request, with a reference such as WB-2026-0042."""

    __tablename__ = "cases"
    id = Column(Integer, primary_key=True)
    ref = Column(String(20), nullable=False, unique=True)
    reporter_id = Column(Integer, ForeignKey("reporters.id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False)  # "incident" | "support"
    status = Column(String(20), nullable=False, default="open")
    urgency = Column(String(10), nullable=False, default="normal")
    story = Column(SealedText)
    incident_type = Column(String(40))
    platform = Column(String(40))
    occurred_at = Column(UTCDateTime)
    occurred_text = Column(String(200))
    location = Column(SealedText)
    targeted = Column(String(40))
    role = Column(String(40))  # the reporter's role when the case was made (told or verified)
    aangifte = Column(String(20))
    wants_support = Column(Boolean)
    wants_checkins = Column(Boolean)  # None: not asked (a support request)
    contact_preference = Column(String(20))
    phone = Column(SealedText)
    owner = Column(String(120))
    closed_reason = Column(String(200))
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)
    # Where the case's card sits in Slack; the card's ts is also its thread.
    slack_channel = Column(String(20))
    slack_ts = Column(String(32), index=True)
    # Deleted at the reporter's request, and when its personal content was removed (either way).
    deleted_at = Column(UTCDateTime)
    purged_at = Column(UTCDateTime)
    # Escalated and not yet closed (nor ended by the reporter): what they send goes to the thread.
    waiting_since = Column(UTCDateTime, index=True)
    # The case that was waiting for the team when this report was made.
    linked_case_id = Column(Integer, ForeignKey("cases.id"))

    reporter = relationship("Reporter", lazy="joined")
    events = relationship("CaseEvent", order_by="CaseEvent.id", lazy="selectin")
    evidence = relationship("Evidence", order_by="Evidence.id", lazy="selectin")


class CaseEvent(Base):
    """One entry on a case's timeline: who did what, when."""

    __tablename__ = "case_events"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id"), nullable=False, index=True)
    at = Column(UTCDateTime, nullable=False)
    kind = Column(String(40), nullable=False)
    actor = Column(String(120), nullable=False)
    detail = Column(SealedJSON, nullable=False, default=dict)


class Evidence(Base):
    """A file sent as evidence; kept in the database so nothing is lost."""

    __tablename__ = "evidence"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id"), index=True)
    reporter_id = Column(Integer, ForeignKey("reporters.id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False)  # photo | document | voice | video
    mime = Column(String(100))
    filename = Column(SealedText)
    size = Column(BigInteger, nullable=False)
    sha256 = Column(String(64), nullable=False)
    content = Column(SealedBytes, nullable=False)
    received_at = Column(UTCDateTime, nullable=False)


class Conversation(Base):
    """Where one reporter is in the dialogue; one row per reporter, locked per turn."""

    __tablename__ = "conversations"
    reporter_id = Column(Integer, ForeignKey("reporters.id"), primary_key=True)
    state = Column(SealedJSON, nullable=False, default=dict)
    updated_at = Column(UTCDateTime, nullable=False)


class Delivery(Base):
    """A platform message already handled (e.g. a Telegram update id), so a redelivery is not."""

    __tablename__ = "deliveries"
    key = Column(String(80), primary_key=True)
    handled_at = Column(UTCDateTime, nullable=False, index=True)


class DeadLetter(Base):
    """A platform update whose turn failed for its own reason: set aside until an operator's fix."""

    __tablename__ = "dead_letters"
    id = Column(Integer, primary_key=True)
    key = Column(String(80), nullable=False, unique=True)  # the update's delivery key
    channel = Column(String(20), nullable=False)
    update = Column(SealedJSON)  # the update as the platform sent it; gone once handled
    error = Column(String(200), nullable=False)  # the error's type and place, no message text
    attempts = Column(Integer, nullable=False, default=1)  # times it was set aside
    status = Column(String(20), nullable=False, index=True)  # waiting | retry | handled
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)


class TelegramInbox(Base):
    """A Telegram update taken in by polling and confirmed to Telegram, until its turn is stored."""

    __tablename__ = "telegram_inbox"
    update_id = Column(BigInteger, primary_key=True, autoincrement=False)
    update = Column(SealedJSON, nullable=False)  # the update as Telegram sent it
    received_at = Column(UTCDateTime, nullable=False)


class OutboxMessage(Base):
    """A side effect to deliver (to the support team or a reporter), written with the case."""

    __tablename__ = "outbox"
    id = Column(Integer, primary_key=True)
    destination = Column(String(20), nullable=False)  # "support" | "user"
    reporter_id = Column(Integer, ForeignKey("reporters.id"), index=True)
    case_id = Column(Integer, ForeignKey("cases.id"), index=True)
    payload = Column(SealedJSON, nullable=False)
    created_at = Column(UTCDateTime, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False)
    delivered_at = Column(UTCDateTime)
    last_error = Column(String(200))

    __table_args__ = (Index("ix_outbox_pending", "destination", "delivered_at", "next_attempt_at"),)


class Invite(Base):
    """A single-use code that verifies a reporter's role and municipality; only its hash is kept."""

    __tablename__ = "invites"
    id = Column(Integer, primary_key=True)
    code_hash = Column(String(64), nullable=False, unique=True)
    role = Column(String(40), nullable=False)
    municipality = Column(String(120), nullable=False)
    created_by = Column(String(120), nullable=False)
    created_at = Column(UTCDateTime, nullable=False)
    expires_at = Column(UTCDateTime, nullable=False)
    redeemed_at = Column(UTCDateTime)
    reporter_id = Column(Integer, ForeignKey("reporters.id"), index=True)
    revoked_at = Column(UTCDateTime)


class Checkin(Base):
    """One planned aftercare question to a reporter ("Hoe gaat het nu met je?") and its answer."""

    __tablename__ = "checkins"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    number = Column(Integer, nullable=False)  # 1 for the first check-in of the case
    due_at = Column(UTCDateTime, nullable=False)
    planned = Column(Boolean, nullable=False, default=False)  # its job is in the job store
    sent = Column(Integer, nullable=False, default=0)  # times asked: at most twice
    sent_at = Column(UTCDateTime)
    answered_at = Column(UTCDateTime)
    answer = Column(String(20))

    __table_args__ = (Index("uq_checkins_case_number", "case_id", "number", unique=True),)


# What one row of the tally counts: cases with these values in this month.
TALLY_KEY = (
    "month",
    "kind",
    "incident_type",
    "role",
    "province",
    "platform",
    "aangifte",
    "wants_support",
)


class StatsTally(Base):
    """Erased cases as numbers only: how many per month and kind, nothing that points to anyone.

    Deleting or purging a case writes here in the same transaction, so the figures keep counting
    what the case store no longer tells (the reporter's role and province, check-in answers).
    Unknown values are stored as "" so the unique index can add to an existing row.
    """

    __tablename__ = "stats_tally"
    id = Column(Integer, primary_key=True)
    month = Column(String(7), nullable=False)  # "2026-03", Amsterdam time of the report
    kind = Column(String(20), nullable=False)
    incident_type = Column(String(40), nullable=False)
    role = Column(String(40), nullable=False)
    province = Column(String(40), nullable=False)
    platform = Column(String(40), nullable=False)
    aangifte = Column(String(20), nullable=False)
    wants_support = Column(String(5), nullable=False)  # "ja" | "nee" | ""
    cases = Column(Integer, nullable=False)
    checkins_niet_goed = Column(Integer, nullable=False)

    __table_args__ = (Index("uq_stats_tally", *TALLY_KEY, unique=True),)


__all__ = [
    "Checkin",
    "Base",
    "Case",
    "CaseEvent",
    "Conversation",
    "DeadLetter",
    "Evidence",
    "Invite",
    "OutboxMessage",
    "ReferenceCounter",
    "Reporter",
    "StatsTally",
]
