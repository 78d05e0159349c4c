"""Verification of office holders: single-use invite codes made by the support team.

A code is shown once, as a Telegram deep link; the store keeps only its hash. Redeeming it with
`/start CODE` marks the reporter verified with the invite's role and municipality. Wrong codes
change nothing but a per-reporter count, so nobody can find a valid code by trying many.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.base.clock import AMSTERDAM
from bot.base.redaction import user_tag
from bot.core.features import Feature
from bot.core.turn import TurnContext
from bot.store import Invite, Store
from flows import text
from nlu import ENTITY_VALUES

log = logging.getLogger("weerbaar.invites")

feature = Feature("invites")

ROLES = ENTITY_VALUES["role"]
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to mix up
CODE_LENGTH = 12  # 60 bits: guessing one of a few live codes is hopeless
DEFAULT_HOURS = 72
MAX_HOURS = 24 * 30
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=24)
_MUNICIPALITY_CHARS = re.compile(r"[^\W\d_]|[ .'’-]")


class InviteError(ValueError):
    """An invite cannot be made as asked; the message is Dutch and says why."""


@dataclass(frozen=True)
class NewInvite:
    """A fresh invite: the only moment its code is known."""

    id: int
    code: str
    role: str
    municipality: str
    expires_at: datetime


def normalise_code(raw: str) -> str | None:
    """The code as stored (upper case, no spaces or dashes), or None when it cannot be one."""
    code = re.sub(r"[\s-]", "", raw).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def check_role(raw: str) -> str:
    role = raw.strip().lower()
    if role not in ROLES:
        raise InviteError(
            text(None, "invite_unknown_role", role=raw.strip(), roles=", ".join(ROLES))
        )
    return role


def check_municipality(raw: str) -> str:
    name = " ".join(raw.split())
    if not 2 <= len(name) <= 80 or not all(_MUNICIPALITY_CHARS.fullmatch(c) for c in name):
        raise InviteError(text(None, "invite_bad_municipality"))
    return name


def check_hours(hours: int) -> int:
    if not 1 <= hours <= MAX_HOURS:
        raise InviteError(text(None, "invite_bad_hours", hours=MAX_HOURS))
    return hours


async def create(
    store: Store, role: str, municipality: str, created_by: str, hours: int = DEFAULT_HOURS
) -> NewInvite:
    """Make a single-use invite; raises InviteError for a bad role, name or period."""
    role, municipality = check_role(role), check_municipality(municipality)
    now = store.clock.now()
    expires_at = now + timedelta(hours=check_hours(hours))
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    async with store.session() as session:
        invite = Invite(
            code_hash=code_hash(code),
            role=role,
            municipality=municipality,
            created_by=created_by[:120],
            created_at=now,
            expires_at=expires_at,
        )
        session.add(invite)
        await session.flush()
        invite_id = invite.id
    log.info("invite %d created, valid %d hours", invite_id, hours)
    return NewInvite(invite_id, code, role, municipality, expires_at)


def link(code: str, bot_username: str | None) -> str | None:
    """The Telegram deep link that sends `/start CODE`, when the bot's username is known."""
    return f"https://t.me/{bot_username}?start={code}" if bot_username else None


def announce(invite: NewInvite, bot_username: str | None) -> str:
    """What the support team passes on to the office holder."""
    until = invite.expires_at.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")
    head = text(
        None, "invite_made", role=invite.role, municipality=invite.municipality, until=until
    )
    deep_link = link(invite.code, bot_username)
    if deep_link:
        return f"{head}\n" + text(None, "invite_send_link", link=deep_link)
    return f"{head}\n" + text(None, "invite_send_code", code=invite.code)


def invite_row(invite: Invite, now: datetime) -> dict[str, Any]:
    """An invite as plain data; the code itself is not kept, so it is not shown."""
    if invite.redeemed_at:
        status = "gebruikt"
    elif invite.revoked_at:
        status = "ingetrokken"
    elif invite.expires_at <= now:
        status = "verlopen"
    else:
        status = "geldig"
    return {
        "id": invite.id,
        "role": invite.role,
        "municipality": invite.municipality,
        "created_by": invite.created_by,
        "created_at": invite.created_at.isoformat(),
        "expires_at": invite.expires_at.isoformat(),
        "status": status,
    }


async def listing(store: Store) -> list[dict[str, Any]]:
    """Every invite, newest first."""
    async with store.session() as session:
        rows = await session.execute(select(Invite).order_by(Invite.id.desc()))
        return [invite_row(i, store.clock.now()) for i in rows.scalars()]


async def revoke(store: Store, invite_id: int) -> bool:
    """Make an unused invite invalid; False when there is no such unused invite."""
    async with store.session() as session:
        invite = await session.get(Invite, invite_id, with_for_update=True)
        if invite is None or invite.redeemed_at or invite.revoked_at:
            return False
        invite.revoked_at = store.clock.now()
    log.info("invite %d revoked", invite_id)
    return True


# --- redeeming, inside a reporter's turn -----------------------------------------------------


def _problem(invite: Invite | None, reporter_id: int, now: datetime) -> str | None:
    """Why this invite cannot verify the reporter now, as a text key; None when it can."""
    if invite is None:
        return "invite_unknown"
    if invite.redeemed_at is not None:
        return "invite_already" if invite.reporter_id == reporter_id else "invite_used"
    if invite.revoked_at is not None or invite.expires_at <= now:
        return "invite_expired"
    return None


@feature.deep_link
async def on_deep_link(ctx: TurnContext, code: str) -> None:
    await redeem(ctx, code)


async def redeem(ctx: TurnContext, raw: str) -> bool:
    """`/start CODE`: verify the reporter, or say kindly why not; True when verified now."""
    reporter, now = ctx.reporter, ctx.now
    if reporter.redeem_failed_at and now - reporter.redeem_failed_at > FAILURE_WINDOW:
        reporter.redeem_failures = 0
    if (reporter.redeem_failures or 0) >= MAX_FAILURES:
        log.info("invite refused for %s: too many wrong codes", user_tag(reporter.user_key))
        ctx.say(text(None, "invite_too_many") + "\n" + text(None, "invite_meanwhile"))
        return False
    code = normalise_code(raw)
    invite = None
    if code is not None:
        found = await ctx.session.execute(
            select(Invite).where(Invite.code_hash == code_hash(code)).with_for_update()
        )
        invite = found.scalar_one_or_none()
    problem = _problem(invite, reporter.id, now)
    if problem == "invite_already":
        ctx.say(text(None, problem, role=reporter.role, municipality=reporter.municipality))
        return False
    if problem is not None:
        reporter.redeem_failures = (reporter.redeem_failures or 0) + 1
        reporter.redeem_failed_at = now
        log.info("invite refused for %s: %s", user_tag(reporter.user_key), problem)
        ctx.say(text(None, problem) + "\n" + text(None, "invite_meanwhile"))
        return False
    assert invite is not None
    invite.redeemed_at, invite.reporter_id = now, reporter.id
    reporter.role, reporter.municipality = invite.role, invite.municipality
    reporter.verified, reporter.verified_at = True, now
    reporter.redeem_failures, reporter.redeem_failed_at = 0, None
    log.info("invite %d redeemed by %s", invite.id, user_tag(reporter.user_key))
    ctx.say(text(None, "invite_verified", role=invite.role, municipality=invite.municipality))
    return True
