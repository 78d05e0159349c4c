"""What the support team does with a case: acknowledge, close, look it up."""

from __future__ import annotations

from typing import Any

from bot.features.relay import next_step
from bot.jobs.scheduler import cancel_case_jobs
from bot.store import Case, Store
from flows import text

LIST_FIELDS = ("ref", "kind", "status", "urgency", "incident_type", "owner", "created_at")


class CaseNotFound(LookupError):
    """No case with that reference."""


def case_json(case: Case) -> dict[str, Any]:
    """A case as plain data: its fields, evidence (without content) and timeline."""
    return {
        "ref": case.ref,
        "kind": case.kind,
        "status": case.status,
        "urgency": case.urgency,
        "incident_type": case.incident_type,
        "platform": case.platform,
        "story": case.story,
        "occurred_at": case.occurred_at.isoformat() if case.occurred_at else None,
        "occurred_text": case.occurred_text,
        "location": case.location,
        "targeted": case.targeted,
        "role": case.role,
        "aangifte": case.aangifte,
        "wants_support": case.wants_support,
        "wants_checkins": case.wants_checkins,
        "contact_preference": case.contact_preference,
        "phone": case.phone,
        "owner": case.owner,
        "closed_reason": case.closed_reason,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "evidence": [
            {
                "kind": e.kind,
                "mime": e.mime,
                "filename": e.filename,
                "size": e.size,
                "sha256": e.sha256,
                "received_at": e.received_at.isoformat(),
            }
            for e in case.evidence
        ],
        "timeline": [
            {"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor, "detail": e.detail}
            for e in case.events
        ],
    }


def case_row(case: Case) -> dict[str, Any]:
    """A case in a list: no story, no personal data."""
    fields = case_json(case)
    return {key: fields[key] for key in LIST_FIELDS}


async def _notify_reporter(store: Store, session: Any, case: Case, message: str) -> None:
    await store.enqueue(
        session,
        "user",
        {"user": case.reporter.user_key, "case": case.ref, "text": message},
        reporter_id=case.reporter_id,
        case_id=case.id,
    )


async def acknowledge(store: Store, ref: str, actor: str) -> Case:
    """Take ownership of a case and tell the reporter who picked it up."""
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        if case is None:
            raise CaseNotFound(ref)
        if case.status == "closed" or case.owner == actor:
            return case
        if case.status == "open":  # a case in contact stays in contact
            case.status = "acknowledged"
        case.owner = actor
        await store.add_event(session, case, "acknowledged", actor)
        first_name = actor.split()[0]
        await _notify_reporter(
            store,
            session,
            case,
            text(
                None,
                "case_acknowledged",
                ref=case.ref,
                owner=first_name,
                next=next_step(case, first_name),
            ),
        )
        return case


async def close(store: Store, ref: str, actor: str, reason: str) -> Case:
    """Close a case with a reason and tell the reporter."""
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        if case is None:
            raise CaseNotFound(ref)
        if case.status == "closed":
            return case
        case.status = "closed"
        case.waiting_since = None
        case.closed_reason = reason[:200]
        await store.add_event(session, case, "closed", actor, {"reason": reason[:200]})
        await cancel_case_jobs(session, case.ref)
        await _notify_reporter(store, session, case, text(None, "case_closed", ref=case.ref))
        return case
