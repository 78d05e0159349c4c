"""Flow actions: plain functions registered by name, called from flows/*.yml."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from bot.base.clock import AMSTERDAM
from bot.base.messages import Attachment, Button, Reply
from bot.features import aftercare, dossier, relay
from bot.store import Case, Evidence
from flows.engine import Action, Frame, TurnContext
from flows.model import END, Catalog, Flow, Slot
from flows.story import SERIOUS
from flows.story import read as story_reading

ACTIONS: dict[str, Action] = {}

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NOTE = 4096
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


def _story_slots(ctx: TurnContext, flow: Flow) -> dict[str, Slot]:
    """The slots a story can fill: the report's own, and the reporter's role."""
    return {**flow.slots, "role": _catalog(ctx).flows["find_training"].slots["role"]}


@action("prefill_from_story")
async def prefill_from_story(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Fill what the story already says (type, platform, time, place, target, role)."""
    story = str(frame.slots.get("story", ""))
    reading = story_reading(story, ctx.now.astimezone(AMSTERDAM), _story_slots(ctx, flow))
    parse = ctx.parse if ctx.parse and ctx.parse.text.strip() == story.strip() else None
    for slot in ("incident_type", "platform"):
        value = parse.entity(slot) if parse is not None else None
        if value and flow.slots[slot].choice(value) and slot not in reading.values:
            reading.put(slot, value, _choice_label(flow, slot, value))
    if "role" not in reading.values and ctx.reporter.role:
        training = _catalog(ctx).flows["find_training"]
        role = ctx.reporter.role
        reading.put("role", role, _choice_label(training, "role", role))
    for slot, value in reading.values.items():
        if slot not in frame.slots and slot not in frame.skipped:
            frame.slots[slot] = value
            frame.shown[slot] = reading.shown[slot]
    return None


def _severity(frame: Frame) -> str:
    kind = frame.slots.get("incident_type")
    if not kind or kind == "anders":
        return "unknown"
    return "serious" if kind in SERIOUS else "other"


@action("acknowledge_story")
async def acknowledge_story(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """One short word of acknowledgement, fitting what was told."""
    ctx.say(_text(ctx, flow, f"acknowledge_{_severity(frame)}"))
    return None


@action("aangifte_advice")
async def aangifte_advice(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Why and how to report to the police, in words that fit how serious it was."""
    if frame.slots.get("aangifte_advised"):
        return None
    frame.slots["aangifte_advised"] = True
    why = "serious" if _severity(frame) == "serious" else "other"
    text = _text(ctx, flow, f"aangifte_advice_{why}") + "\n" + _text(ctx, flow, "aangifte_how")
    button = Button(_text(ctx, flow, "button_more_about_aangifte"), "kb:aangifte-doen")
    ctx.say(text, [button])
    return None


@action("summary")
async def summary(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Show every field with buttons to confirm, change one field, or stop."""
    lines = [_text(ctx, flow, "summary_intro")]
    story = " ".join(str(frame.slots.get("story", "")).split())
    short = story if len(story) <= 200 else story[:197].rstrip() + "…"
    story_label = _text(ctx, flow, "label_story")
    lines.append(_text(ctx, flow, "summary_line", label=story_label, value=short))
    buttons = [
        Button(_choice_label(flow, "summary_choice", "confirm"), "confirm"),
        Button(_text(ctx, flow, "button_edit", label=story_label), "edit:story"),
        Button(_text(ctx, flow, "button_more_story"), "edit:story_more"),
    ]
    if "role" in frame.shown:  # read from the story or known from before; shown, not asked
        role_label = _text(ctx, flow, "label_role")
        lines.append(_text(ctx, flow, "summary_line", label=role_label, value=frame.shown["role"]))
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
        role=slots.get("role"),
        aangifte=slots.get("aangifte"),
        wants_support=wants_support,
        wants_checkins=wants_checkins,
    )
    if slots.get("role") and not ctx.reporter.verified:  # a verified role comes from the invite
        ctx.reporter.role = slots["role"]
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
    ctx.say(text, [add_button(ctx, case), dossier_button(ctx, case.ref)])
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
    """Keep the files of a report being written; they join the case when it is sent."""
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


# --- adding to a case that was already sent ----------------------------------------------

ADD_WINDOW = timedelta(hours=1)  # a file this soon after sending belongs to the case just sent


async def own_case(ctx: TurnContext, ref: str) -> Case | None:
    """One of the reporter's own cases whose content is still there; None otherwise."""
    case = await ctx.store.case_by_ref(ctx.session, ref)
    if case is None or case.reporter_id != ctx.reporter.id or case.deleted_at or case.purged_at:
        return None
    return case


async def just_sent(ctx: TurnContext) -> Case | None:
    """The reporter's report sent within the last hour, if any."""
    return await ctx.store.latest_incident(ctx.session, ctx.reporter.id, ctx.now - ADD_WINDOW)


def add_button(ctx: TurnContext, case: Case) -> Button:
    flow = _catalog(ctx).flows["report_incident"]
    return Button(_text(ctx, flow, "button_more_story"), f"add:{case.ref}")


def _with_team(case: Case) -> bool:
    """Whether the support team has this case (its card, or one on the way)."""
    return case.slack_ts is not None or any(e.kind == "escalated" for e in case.events)


@action("ask_addition")
async def ask_addition(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Ask for what to add to the case, with a button to finish."""
    buttons = [Button(c.label, c.value) for c in flow.step("addition").buttons]
    ctx.say(_text(ctx, flow, "ask_addition", ref=frame.slots["case_ref"]), buttons)
    return None


@action("add_to_case")
async def add_to_case(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Put each file or text on the case's timeline at once, and in its thread for the team."""
    ref = str(frame.slots["case_ref"])
    case = await own_case(ctx, ref)
    if case is None:
        ctx.say(_text(ctx, flow, "case_gone"))
        return None
    added = frame.slots["addition"]
    team = _with_team(case)
    for attachment in ctx.incoming.attachments:
        item = await keep_file(ctx, attachment, case_id=case.id)
        if item is None:
            continue
        added["files"].append(item.id)
        detail = {"kind": item.kind, "sha256": item.sha256, "size": item.size}
        await ctx.store.add_event(ctx.session, case, "evidence_added", "melder", detail)
        kind = file_kind(item.kind)
        if team:
            text = _text(ctx, flow, "team_file", kind=kind, hash=item.sha256[:12])
            await relay.tell_team(
                ctx.store, ctx.session, case, "evidence", evidence=item.id, text=text
            )
        ctx.say(_text(ctx, flow, "added_file", ref=ref, kind=kind, hash=item.sha256[:12]))
    if not ctx.incoming.attachments and ctx.text:
        note = ctx.text[:MAX_NOTE]
        added["notes"].append(note)
        await ctx.store.add_event(ctx.session, case, "note_added", "melder", {"text": note})
        if team:
            text = _text(ctx, flow, "team_note", text=note)
            await relay.tell_team(ctx.store, ctx.session, case, "note", text=text)
        ctx.say(_text(ctx, flow, "added_note", ref=ref))
    return None


@action("finish_addition")
async def finish_addition(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Say where what was added is now."""
    ref = str(frame.slots["case_ref"])
    added = frame.slots.get("addition") or {"files": [], "notes": []}
    case = await own_case(ctx, ref)
    if not added["files"] and not added["notes"]:
        ctx.say(_text(ctx, flow, "added_nothing", ref=ref))
    elif case is not None and _with_team(case):
        ctx.say(_text(ctx, flow, "added_done_team", ref=ref))
    else:
        ctx.say(_text(ctx, flow, "added_done", ref=ref))
    return END


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
    can_add = not (case.deleted_at or case.purged_at)  # the same test as own_case's
    buttons = [add_button(ctx, case)] if can_add else []
    if not case.purged_at:
        buttons.append(dossier_button(ctx, case.ref))
    ctx.say(_text(ctx, flow, "case_detail", **_case_values(ctx, case)), buttons)
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
