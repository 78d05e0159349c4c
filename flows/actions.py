"""Flow actions: plain functions registered by name, called from flows/*.yml."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from bot import aftercare, dossier
from bot.clock import AMSTERDAM
from bot.messages import Attachment, Button, Reply
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
    if wants_support:
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
    ctx.say(text, [dossier_button(ctx, case.ref)])
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
        if attachment.kind not in FILE_KINDS:
            ctx.say(_text(ctx, flow, "file_kind_refused"))
            continue
        if len(attachment.data) > MAX_FILE_BYTES:
            ctx.say(_text(ctx, flow, "file_too_big", megabytes=MAX_FILE_BYTES // (1024 * 1024)))
            continue
        digest = hashlib.sha256(attachment.data).hexdigest()
        item = Evidence(
            reporter_id=ctx.reporter.id,
            kind=attachment.kind,
            mime=attachment.mime,
            filename=(attachment.filename or "")[:200] or None,
            size=len(attachment.data),
            sha256=digest,
            content=attachment.data,
            received_at=ctx.now,
        )
        ctx.session.add(item)
        await ctx.session.flush()
        files.append(item.id)
        ctx.say(
            _text(
                ctx,
                flow,
                "file_received",
                kind=_text(ctx, flow, f"file_{attachment.kind}"),
                hash=digest[:12],
            )
        )
    return None


@action("emergency_in_flow")
async def emergency_in_flow(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Danger now: 112 first, then the offer to alert the team; this flow ends."""
    ctx.state.stack.remove(frame)
    say_emergency(ctx)
    return None


def say_emergency(ctx: TurnContext) -> None:
    """The emergency answer: calling 112 comes first, always."""
    ctx.say(_text(ctx, None, "emergency"))
    buttons = [Button(_text(ctx, None, "button_alert_team"), "alert_team")]
    if ctx.state.stack:
        buttons.append(Button(_text(ctx, None, "button_continue"), "resume"))
    ctx.say(_text(ctx, None, "emergency_offer"), buttons)


async def request_support(
    ctx: TurnContext, *, urgency: str, contact: str, phone: str | None, need: str | None
) -> Case:
    """Create a support case and queue its escalation in the same transaction."""
    flow = _catalog(ctx).flows["request_support"]
    case = await ctx.store.create_case(
        ctx.session,
        ctx.reporter,
        kind="support",
        urgency=urgency,
        contact_preference=contact,
        phone=phone,
        story=need,
        wants_support=True,
    )
    how = _text(ctx, flow, "how_call" if contact == "bellen" else "how_chat")
    await ctx.store.enqueue(
        ctx.session,
        "support",
        {
            "kind": "escalation",
            "case": case.ref,
            "urgency": urgency,
            "text": _text(ctx, flow, "escalation", ref=case.ref, urgency=urgency, how=how),
        },
        case_id=case.id,
    )
    await ctx.store.add_event(ctx.session, case, "escalated", "systeem", {"urgency": urgency})
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


def _say_entry(
    ctx: TurnContext, entry: Any, role: str | None = None, extra: tuple[Button, ...] = ()
) -> None:
    """The first answer of an entry, with a button for the rest."""
    from knowledge import render

    more = (Button(_text(ctx, None, "knowledge_more"), f"meer:{entry.id}"),)
    ctx.say(render(entry, role=role), [*(more if entry.has_more else ()), *extra])


def show_entry(ctx: TurnContext, entry_id: str, flow: Flow | None = None) -> bool:
    """Say one knowledge entry; False when it does not exist."""
    entry = ctx.knowledge.get(entry_id)
    if entry is None:
        return False
    _say_entry(ctx, entry, ctx.reporter.role)
    return True


def show_more(ctx: TurnContext, entry_id: str) -> bool:
    """Say the rest of one knowledge entry; False when it does not exist."""
    from knowledge import render_more

    entry = ctx.knowledge.get(entry_id)
    if entry is None:
        return False
    ctx.say(render_more(entry))
    return True


def _answer(
    ctx: TurnContext, flow: Flow, hits: list[Any], other_payload: str, role: str | None = None
) -> None:
    best, more = hits[0], hits[1:3]
    if more:
        _say_entry(ctx, best.entry, role)
        ctx.say(_text(ctx, flow, "more"), _knowledge_buttons(ctx, more, flow, other_payload))
    else:
        other = Button(_text(ctx, None, "fallback_other"), other_payload)
        _say_entry(ctx, best.entry, role, (other,))


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
    _answer(ctx, flow, hits, "intent:find_protocol", role)
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
    detail = _text(ctx, flow, "case_detail", **_case_values(ctx, case))
    ctx.say(detail, [] if case.purged_at else [dossier_button(ctx, case.ref)])
    return True


def dossier_button(ctx: TurnContext, ref: str) -> Button:
    """The button that sends the reporter the aangifte dossier of one of their cases."""
    return Button(
        _text(ctx, _catalog(ctx).flows["case_status"], "button_dossier"), f"dossier:{ref}"
    )


async def send_dossier(ctx: TurnContext, ref: str) -> bool:
    """Send the dossier of one of the reporter's own cases as documents; False when not theirs.

    Documents carry a neutral name and caption, so a notification shows nothing of the incident.
    """
    case = await ctx.store.case_by_ref(ctx.session, ref)
    if case is None or case.reporter_id != ctx.reporter.id:
        return False
    flow = _catalog(ctx).flows["case_status"]
    try:
        made = await dossier.reporter_files(case, ctx.now)
    except dossier.DossierUnavailable:
        ctx.say(_text(ctx, flow, "dossier_unavailable"))
        return True
    for number, file in enumerate(made):
        if number == 0:
            caption = _text(ctx, flow, "dossier_caption", ref=case.ref)
        elif len(made) == 2:
            caption = _text(ctx, flow, "dossier_package_caption", ref=case.ref)
        else:
            caption = _text(
                ctx,
                flow,
                "dossier_package_part_caption",
                ref=case.ref,
                part=number,
                parts=len(made) - 1,
            )
        attachment = Attachment("document", file.data, file.mime, file.name)
        ctx.replies.append(Reply(caption, file=attachment))
    if len(made) > 2:
        megabytes = dossier.TELEGRAM_LIMIT // (1000 * 1000)
        ctx.say(_text(ctx, flow, "dossier_split", megabytes=megabytes, parts=len(made) - 1))
    if len(made) > 1:
        ctx.say(_text(ctx, flow, "dossier_package_sent"))
    ctx.say(_text(ctx, flow, "dossier_sent"))
    await ctx.store.add_event(ctx.session, case, "dossier_made", "melder", {"for": "reporter"})
    return True
