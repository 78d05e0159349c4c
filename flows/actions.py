"""Flow actions: plain functions registered by name, called from flows/*.yml."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from bot import aftercare, relay
from bot.clock import AMSTERDAM
from bot.messages import Attachment, Button
from bot.store import Case, Evidence
from flows.dates import find_when
from flows.engine import Action, Frame, TurnContext
from flows.model import END, Catalog, Flow
from flows.validators import find_choice

ACTIONS: dict[str, Action] = {}

MAX_FILE_BYTES = 20 * 1024 * 1024
FILE_KINDS = {"photo", "document", "voice", "video"}
SUMMARY_SLOTS = (
    "incident_type",
    "platform",
    "occurred",
    "location",
    "targeted",
    "evidence",
    "aangifte",
    "wants_support",
    "checkins",
)


def action(name: str) -> Any:
    """Register a flow action under a name flows can use."""

    def register(function: Action) -> Action:
        ACTIONS[name] = function
        return function

    return register


def _catalog(ctx: TurnContext) -> Catalog:
    from flows import catalog

    return catalog()


def _text(ctx: TurnContext, flow: Flow | None, key: str, **values: Any) -> str:
    return _catalog(ctx).text(flow, key, **values)


def _catalog_text(flow: str, key: str, **values: Any) -> str:
    from flows import text

    return text(flow, key, **values)


def _choice_label(flow: Flow, slot: str, value: str | None) -> str:
    if value is None or slot not in flow.slots:
        return value or ""
    choice = flow.slots[slot].choice(value)
    return choice.label if choice else value


@action("prefill_from_story")
async def prefill_from_story(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Fill type, platform and date from the story so they are not asked again."""
    story = str(frame.slots.get("story", ""))
    parse = ctx.parse if ctx.parse and ctx.parse.text.strip() == story.strip() else None
    for slot in ("incident_type", "platform"):
        # The NLU's entity first; else a word from the flow's own synonym list, if only one fits.
        value = parse.entity(slot) if parse is not None else None
        if not (value and flow.slots[slot].choice(value)):
            value = find_choice(flow.slots[slot], story)
        if value and slot not in frame.slots:
            frame.slots[slot] = value
            frame.shown[slot] = _choice_label(flow, slot, value)
    when = find_when(story, ctx.now.astimezone(AMSTERDAM))
    if when is not None and not when.ambiguous and "occurred" not in frame.slots:
        frame.slots["occurred"] = {
            "moment": when.moment.isoformat(),
            "precision": when.precision,
            "text": story[:200],
        }
        frame.shown["occurred"] = when.describe(ctx.now)
    return None


@action("summary")
async def summary(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Show every field with buttons to confirm, change one field, or stop."""
    lines = [_text(ctx, flow, "summary_intro")]
    story = str(frame.slots.get("story", ""))
    short = story if len(story) <= 160 else story[:157].rstrip() + "…"
    lines.append(
        _text(ctx, flow, "summary_line", label=_text(ctx, flow, "label_story"), value=short)
    )
    buttons = [Button(_choice_label(flow, "summary_choice", "confirm"), "confirm")]
    for slot in SUMMARY_SLOTS:
        label = _text(ctx, flow, f"label_{slot}")
        if slot in frame.shown:
            lines.append(_text(ctx, flow, "summary_line", label=label, value=frame.shown[slot]))
        if slot in frame.shown or slot != "platform":
            buttons.append(Button(_text(ctx, flow, "button_edit", label=label), f"edit:{slot}"))
    buttons.append(Button(_choice_label(flow, "summary_choice", "stop"), "stop"))
    lines.append(_text(ctx, flow, "summary_question"))
    ctx.say("\n".join(lines), buttons)
    return None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, dict) and value.get("moment"):
        return datetime.fromisoformat(value["moment"])
    return None


async def _discard_draft_evidence(ctx: TurnContext, frame: Frame) -> None:
    ids = list((frame.slots.get("evidence") or {}).get("files", []))
    if ids:
        await ctx.session.execute(
            delete(Evidence).where(Evidence.id.in_(ids), Evidence.case_id.is_(None))
        )


@action("create_case")
async def create_case(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Save the report as a case; queue an escalation when support is wanted."""
    slots = frame.slots
    evidence = slots.get("evidence") or {"files": [], "notes": []}
    wants_support = slots.get("wants_support") == "ja"
    wants_checkins = {"ja": True, "nee": False}.get(str(slots.get("checkins")))
    occurred = slots.get("occurred")
    case = await ctx.store.create_case(
        ctx.session,
        ctx.reporter,
        kind="incident",
        urgency="normal",
        story=slots.get("story"),
        incident_type=slots.get("incident_type"),
        platform=slots.get("platform"),
        occurred_at=_moment(occurred),
        occurred_text=frame.shown.get("occurred"),
        location=slots.get("location"),
        targeted=slots.get("targeted"),
        aangifte=slots.get("aangifte"),
        wants_support=wants_support,
        wants_checkins=wants_checkins,
    )
    if wants_checkins:
        await aftercare.plan_checkins(ctx.session, case, ctx.settings)
    if evidence["files"]:
        rows = await ctx.session.execute(
            select(Evidence).where(
                Evidence.id.in_(evidence["files"]), Evidence.reporter_id == ctx.reporter.id
            )
        )
        for item in rows.scalars():
            item.case_id = case.id

    if evidence["notes"]:
        await ctx.store.add_event(
            ctx.session, case, "evidence_notes", "melder", {"notes": evidence["notes"]}
        )
    text = _text(ctx, flow, "case_created", ref=case.ref)
    waiting = await relay.waiting_case(ctx.store, ctx.session, ctx.reporter.id)
    if waiting is not None and waiting.id != case.id:
        # The team already talks with this reporter: the report goes to that case's thread.
        case.linked_case_id = waiting.id
        await ctx.store.add_event(ctx.session, case, "linked", "melder", {"case": waiting.ref})
        await ctx.store.add_event(
            ctx.session, waiting, "report_linked", "melder", {"case": case.ref}
        )
        note = _catalog_text(
            "request_support",
            "team_linked_report",
            ref=case.ref,
            type=frame.shown.get("incident_type", "?"),
            when=frame.shown.get("occurred", "?"),
            story=_short(str(slots.get("story") or "?")),
        )
        await relay.tell_team(ctx.store, ctx.session, waiting, "note", text=note)
        text += "\n" + _catalog_text("request_support", "linked_report", ref=waiting.ref)
    elif wants_support:
        relay.start_waiting(ctx.store, case)
        await ctx.store.enqueue(
            ctx.session,
            "support",
            {
                "kind": "escalation",
                "case": case.ref,
                "text": _text(
                    ctx,
                    flow,
                    "escalation",
                    ref=case.ref,
                    type=frame.shown.get("incident_type", "?"),
                    when=frame.shown.get("occurred", "?"),
                ),
            },
            case_id=case.id,
        )
        await ctx.store.add_event(ctx.session, case, "escalated", "systeem")
        text += "\n" + _text(ctx, flow, "case_created_support")
    ctx.say(text)
    return END


@action("drop_flow")
async def drop_flow(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Stop this flow and keep nothing of it."""
    await _discard_draft_evidence(ctx, frame)
    ctx.state.stack.remove(frame)
    ctx.say(_text(ctx, flow, "cancelled"))
    return None


@action("store_evidence")
async def store_evidence(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Keep each file with its hash, size, type and time; refuse what is too big or unknown."""
    files = frame.slots.setdefault("evidence", {"files": [], "notes": []})["files"]
    for attachment in ctx.incoming.attachments:
        item = await keep_file(ctx, attachment)
        if item is None:
            continue
        files.append(item.id)
        ctx.say(
            _text(
                ctx,
                flow,
                "file_received",
                kind=file_kind(attachment.kind),
                hash=item.sha256[:12],
            )
        )
    return None


def file_kind(kind: str) -> str:
    """What a file is called for the reporter and the team: foto, bestand, spraakbericht, video."""
    return _catalog_text("report_incident", f"file_{kind}")


async def keep_file(
    ctx: TurnContext, attachment: Attachment, *, case_id: int | None = None
) -> Evidence | None:
    """Keep a file with its hash, size, type and time; None (said why) if too big or unknown."""
    if attachment.kind not in FILE_KINDS:
        ctx.say(_catalog_text("report_incident", "file_kind_refused"))
        return None
    if len(attachment.data) > MAX_FILE_BYTES:
        megabytes = MAX_FILE_BYTES // (1024 * 1024)
        ctx.say(_catalog_text("report_incident", "file_too_big", megabytes=megabytes))
        return None
    item = Evidence(
        case_id=case_id,
        reporter_id=ctx.reporter.id,
        kind=attachment.kind,
        mime=attachment.mime,
        filename=(attachment.filename or "")[:200] or None,
        size=len(attachment.data),
        sha256=hashlib.sha256(attachment.data).hexdigest(),
        content=attachment.data,
        received_at=ctx.now,
    )
    ctx.session.add(item)
    await ctx.session.flush()
    return item


@action("emergency_in_flow")
async def emergency_in_flow(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Danger now, said in answer to the question: call 112, then the ways on; this flow ends."""
    ctx.state.stack.remove(frame)
    say_emergency(ctx, first="emergency_now")
    return None


REPORT_NOW = "report_now"
NOT_NEEDED = "not_needed"
# How long what the reporter said stays the content of an alert they may still raise.
SAID_MINUTES = 30
MAX_SAID = 3


def say_emergency(ctx: TurnContext, first: str = "emergency") -> None:
    """The emergency answer: calling 112 comes first, always; then alert, report or leave it."""
    ctx.say(_text(ctx, None, first))
    buttons = [Button(_text(ctx, None, "button_alert_team"), "alert_team")]
    if _draft(ctx) is None:
        buttons.append(Button(_text(ctx, None, "button_report_now"), REPORT_NOW))
    if ctx.state.stack:
        buttons.append(Button(_text(ctx, None, "button_continue"), "resume"))
    else:
        buttons.append(Button(_text(ctx, None, "button_not_needed"), NOT_NEEDED))
    ctx.say(_text(ctx, None, "emergency_offer"), buttons)


def remember_said(ctx: TurnContext) -> None:
    """Keep the reporter's last few words (for the content of an alert raised from them)."""
    recent = [s for s in ctx.state.said if _recent(ctx, s)][-(MAX_SAID - 1) :]
    ctx.state.said = [*recent, {"at": ctx.now.isoformat(), "text": ctx.text[:1000]}]


def _recent(ctx: TurnContext, said: dict[str, str]) -> bool:
    at = datetime.fromisoformat(said["at"])
    return (ctx.now - at).total_seconds() <= SAID_MINUTES * 60


def last_said(ctx: TurnContext) -> str | None:
    """What the reporter said last, if recent: the story of "it is over, I want to report it"."""
    recent = [s["text"] for s in ctx.state.said if _recent(ctx, s)]
    return recent[-1] if recent else None


def _short(story: str, limit: int = 300) -> str:
    story = " ".join(story.split())
    return story if len(story) <= limit else story[: limit - 1].rstrip() + "…"


def _draft(ctx: TurnContext) -> Frame | None:
    """The report being filled in, if any."""
    return next((f for f in ctx.state.stack if f.flow == "report_incident"), None)


async def request_support(
    ctx: TurnContext, *, urgency: str, contact: str, phone: str | None, need: str | None
) -> Case:
    """Create a support case and queue its escalation in the same transaction.

    The case carries what the alert is about: the reporter's recent words, what they need, and
    the report they were filling in (its type, time, place and story so far).
    """
    flow = _catalog(ctx).flows["request_support"]
    said = [s["text"] for s in ctx.state.said if _recent(ctx, s)]
    draft = _draft(ctx)
    slots = draft.slots if draft is not None else {}
    story_parts = [str(slots["story"])] if slots.get("story") else []
    story_parts += [p for p in (*said, need) if p and p not in story_parts]
    case = await ctx.store.create_case(
        ctx.session,
        ctx.reporter,
        kind="support",
        urgency=urgency,
        contact_preference=contact,
        phone=phone,
        story="\n".join(story_parts) or None,
        incident_type=slots.get("incident_type"),
        platform=slots.get("platform"),
        occurred_at=_moment(slots.get("occurred")),
        occurred_text=draft.shown.get("occurred") if draft else None,
        location=slots.get("location"),
        targeted=slots.get("targeted"),
        wants_support=True,
    )
    waiting = await relay.waiting_case(ctx.store, ctx.session, ctx.reporter.id)
    if waiting is not None and waiting.id != case.id:
        case.linked_case_id = waiting.id
        await ctx.store.add_event(ctx.session, case, "linked", "melder", {"case": waiting.ref})
    relay.start_waiting(ctx.store, case)
    ctx.state.said = []
    lines = [
        _text(
            ctx,
            flow,
            "escalation",
            kind=_text(ctx, flow, "team_kind_support"),
            ref=case.ref,
            urgency=_text(ctx, flow, f"team_urgency_{urgency}"),
            contact=_text(ctx, flow, f"team_contact_{contact}"),
        )
    ]
    if draft is not None:
        lines.append(
            _text(
                ctx,
                flow,
                "escalation_draft",
                type=draft.shown.get("incident_type", "?"),
                when=draft.shown.get("occurred", "?"),
                story=_short(str(slots.get("story") or "?")),
            )
        )
    words = [p for p in (*said, need) if p]
    if words:
        lines.append(_text(ctx, flow, "escalation_said", said=" / ".join(words)))
    elif draft is None:
        lines.append(_text(ctx, flow, "escalation_nothing_said"))
    await ctx.store.enqueue(
        ctx.session,
        "support",
        {"kind": "escalation", "case": case.ref, "urgency": urgency, "text": "\n".join(lines)},
        case_id=case.id,
    )
    await ctx.store.add_event(ctx.session, case, "escalated", "systeem", {"urgency": urgency})
    how = _text(ctx, flow, "how_call" if contact == "bellen" else "how_chat")
    ctx.say(
        _text(
            ctx,
            flow,
            "support_requested",
            ref=case.ref,
            minutes=ctx.settings.support_response_minutes,
            how=how,
        )
    )
    if draft is not None:
        ctx.say(_text(ctx, flow, "draft_attached"))
    return case


@action("create_support_request")
async def create_support_request(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Escalate a request for help to the support team."""
    await request_support(
        ctx,
        urgency="normal",
        contact=str(frame.slots.get("contact_preference", "chatten")),
        phone=frame.slots.get("phone") if frame.slots.get("phone_consent") == "ja" else None,
        need=frame.slots.get("need"),
    )
    return END


def _knowledge_buttons(
    ctx: TurnContext, hits: list[Any], flow: Flow, other_payload: str
) -> list[Button]:
    buttons = [Button(hit.entry.title[:60], f"kb:{hit.entry.id}") for hit in hits]
    buttons.append(Button(_text(ctx, None, "fallback_other"), other_payload))
    return buttons


def show_entry(ctx: TurnContext, entry_id: str, flow: Flow | None = None) -> bool:
    """Say one knowledge entry; False when it does not exist."""
    from knowledge import render

    entry = ctx.knowledge.get(entry_id)
    if entry is None:
        return False
    ctx.say(render(entry))
    return True


def _answer(ctx: TurnContext, flow: Flow, hits: list[Any], other_payload: str) -> None:
    from knowledge import render

    best, more = hits[0], hits[1:3]
    if more:
        ctx.say(render(best.entry))
        ctx.say(_text(ctx, flow, "more"), _knowledge_buttons(ctx, more, flow, other_payload))
    else:
        ctx.say(render(best.entry), [Button(_text(ctx, None, "fallback_other"), other_payload)])


def _typed_question(ctx: TurnContext) -> str | None:
    """The reporter's own words, when this turn is a typed question and not a button or command."""
    if ctx.payload is not None or not ctx.text or ctx.text.startswith("/"):
        return None
    return ctx.text


@action("answer_question")
async def answer_question(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Answer a typed question straight away; otherwise ask for the topic."""
    question = _typed_question(ctx)
    if question is None:
        return None
    topic = ctx.parse.entity("topic") if ctx.parse else None
    hits = ctx.knowledge.search(question, kind="protocol", topic=topic, limit=3)
    if not hits:
        return None
    _answer(ctx, flow, hits, "intent:find_protocol")
    return END


@action("answer_topic")
async def answer_topic(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Answer for the chosen topic."""
    topic = str(frame.slots["topic"])
    label = _choice_label(flow, "topic", topic)
    hits = ctx.knowledge.search(label, kind="protocol", topic=topic, limit=3)
    if not hits:
        ctx.say(_text(ctx, flow, "nothing_found"))
        return END
    _answer(ctx, flow, hits, "intent:find_protocol")
    return END


@action("remembered_role")
async def remembered_role(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Skip the role question when the reporter's role is known."""
    role = ctx.reporter.role or (ctx.parse.entity("role") if ctx.parse else None)
    if role and flow.slots["role"].choice(role):
        frame.slots["role"] = role
        return "answer"
    return None


@action("answer_training")
async def answer_training(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Show the training offer that fits the reporter's role, and remember the role."""
    role = str(frame.slots["role"])
    if not ctx.reporter.verified:  # a verified role comes from the invite and stays
        ctx.reporter.role = role
    query = _typed_question(ctx) or "training"
    hits = ctx.knowledge.search(query, kind="training", role=role, limit=3)
    if not hits:
        hits = ctx.knowledge.search("training", kind="training", role=role, limit=3)
    if not hits:
        ctx.say(_text(ctx, flow, "nothing_found"))
        return END
    _answer(ctx, flow, hits, "intent:find_protocol")
    return END


def _case_values(ctx: TurnContext, case: Case) -> dict[str, str]:
    flow = _catalog(ctx).flows["case_status"]
    report = _catalog(ctx).flows["report_incident"]
    if case.kind == "support":
        kind = _text(ctx, flow, "kind_support")
    else:
        kind = _choice_label(report, "incident_type", case.incident_type) or _text(
            ctx, flow, "type_unknown"
        )
    return {
        "ref": case.ref,
        "date": case.created_at.astimezone(AMSTERDAM).strftime("%d-%m-%Y"),
        "type": kind,
        "status": _text(ctx, flow, f"status_{case.status}"),
    }


@action("list_own_cases")
async def list_own_cases(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """The reporter's own cases, newest first, with a button per case."""
    cases = list(await ctx.store.cases(ctx.session, ctx.reporter.id))
    if not cases:
        ctx.say(_text(ctx, flow, "no_cases"))
        return END
    lines = [_text(ctx, flow, "cases_intro")]
    lines += [_text(ctx, flow, "case_line", **_case_values(ctx, c)) for c in cases[:10]]
    buttons = [Button(c.ref, f"case:{c.ref}") for c in cases[:5]]
    ctx.say("\n".join(lines), buttons)
    return END


async def show_case(ctx: TurnContext, ref: str) -> bool:
    """One of the reporter's own cases in detail; False when it is not theirs."""
    case = await ctx.store.case_by_ref(ctx.session, ref)
    if case is None or case.reporter_id != ctx.reporter.id:
        return False
    flow = _catalog(ctx).flows["case_status"]
    ctx.say(_text(ctx, flow, "case_detail", **_case_values(ctx, case)))
    return True
