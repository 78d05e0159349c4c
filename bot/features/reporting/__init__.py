"""Reporting: the report flow's actions, adding to a sent case, and the reporter's own cases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.base.clock import AMSTERDAM
from bot.base.messages import Button, ToTeam
from bot.core.features import Feature
from bot.core.turn import TurnContext, draft_files
from bot.features import aftercare, relay
from bot.features.dossier.reporter import dossier_button
from bot.features.evidence import file_kind, keep_file
from bot.features.support import short
from bot.store import Case, Evidence
from flows import catalog, choice_label, text
from flows.engine import Frame
from flows.model import END, Flow, Slot
from flows.story import SERIOUS
from flows.story import read as story_reading
from flows.validators import moment

feature = Feature("reporting")

MAX_NOTE = 4096
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


def _story_slots(ctx: TurnContext, flow: Flow) -> dict[str, Slot]:
    """The slots a story can fill: the report's own, and the reporter's role."""
    return {**flow.slots, "role": catalog().flows["find_training"].slots["role"]}


@feature.action("prefill_from_story")
async def prefill_from_story(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Fill what the story already says (type, platform, time, place, target, role)."""
    story = str(frame.slots.get("story", ""))
    reading = story_reading(story, ctx.now.astimezone(AMSTERDAM), _story_slots(ctx, flow))
    parse = ctx.parse if ctx.parse and ctx.parse.text.strip() == story.strip() else None
    for slot in ("incident_type", "platform"):
        value = parse.entity(slot) if parse is not None else None
        if value and flow.slots[slot].choice(value) and slot not in reading.values:
            reading.put(slot, value, choice_label(flow, slot, value))
    if "role" not in reading.values and ctx.reporter.role:
        training = catalog().flows["find_training"]
        role = ctx.reporter.role
        reading.put("role", role, choice_label(training, "role", role))
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


@feature.action("acknowledge_story")
async def acknowledge_story(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """One short word of acknowledgement, fitting what was told."""
    ctx.say(text(flow, f"acknowledge_{_severity(frame)}"))
    return None


@feature.action("aangifte_advice")
async def aangifte_advice(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Why and how to report to the police, in words that fit how serious it was."""
    if frame.slots.get("aangifte_advised"):
        return None
    frame.slots["aangifte_advised"] = True
    why = "serious" if _severity(frame) == "serious" else "other"
    advice = text(flow, f"aangifte_advice_{why}") + "\n" + text(flow, "aangifte_how")
    button = Button(text(flow, "button_more_about_aangifte"), "kb:aangifte-doen")
    ctx.say(advice, [button])
    return None


@feature.action("summary")
async def summary(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Show every field with buttons to confirm, change one field, or stop."""
    lines = [text(flow, "summary_intro")]
    story = " ".join(str(frame.slots.get("story", "")).split())
    short = story if len(story) <= 200 else story[:197].rstrip() + "…"
    story_label = text(flow, "label_story")
    lines.append(text(flow, "summary_line", label=story_label, value=short))
    buttons = [
        Button(choice_label(flow, "summary_choice", "confirm"), "confirm"),
        Button(text(flow, "button_edit", label=story_label), "edit:story"),
        Button(text(flow, "button_more_story"), "edit:story_more"),
    ]
    if "role" in frame.shown:  # read from the story or known from before; shown, not asked
        role_label = text(flow, "label_role")
        lines.append(text(flow, "summary_line", label=role_label, value=frame.shown["role"]))
    for slot in SUMMARY_SLOTS:
        label = text(flow, f"label_{slot}")
        if slot in frame.shown:
            lines.append(text(flow, "summary_line", label=label, value=frame.shown[slot]))
        if slot in frame.shown or slot != "platform":
            buttons.append(Button(text(flow, "button_edit", label=label), f"edit:{slot}"))
    buttons.append(Button(choice_label(flow, "summary_choice", "stop"), "stop"))
    lines.append(text(flow, "summary_question"))
    ctx.say("\n".join(lines), buttons)
    return None


@feature.action("create_case")
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
        occurred_at=moment(occurred),
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
    reply = text(flow, "case_created", ref=case.ref)
    waiting = await relay.waiting_case(ctx.store, ctx.session, ctx.reporter.id)
    if waiting is not None and waiting.id != case.id:
        # The team already talks with this reporter: the report goes to that case's thread.
        case.linked_case_id = waiting.id
        await ctx.store.add_event(ctx.session, case, "linked", "melder", {"case": waiting.ref})
        await ctx.store.add_event(
            ctx.session, waiting, "report_linked", "melder", {"case": case.ref}
        )
        note = text(
            "request_support",
            "team_linked_report",
            ref=case.ref,
            type=frame.shown.get("incident_type", "?"),
            when=frame.shown.get("occurred", "?"),
            story=short(str(slots.get("story") or "?")),
        )
        await relay.tell_team(ctx.store, ctx.session, waiting, "note", text=note)
        reply += "\n" + text("request_support", "linked_report", ref=waiting.ref)
    elif wants_support:
        relay.start_waiting(ctx.store, case)
        await ctx.store.tell_team(
            ctx.session,
            ToTeam(
                "escalation",
                case=case.ref,
                text=text(
                    flow,
                    "escalation",
                    ref=case.ref,
                    type=frame.shown.get("incident_type", "?"),
                    when=frame.shown.get("occurred", "?"),
                ),
            ),
            case_id=case.id,
        )
        await ctx.store.add_event(ctx.session, case, "escalated", "systeem")
        reply += "\n" + text(flow, "case_created_support")
    ctx.say(reply, [add_button(ctx, case), dossier_button(ctx, case.ref)])
    return END


@feature.action("drop_flow")
async def drop_flow(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Stop this flow and keep nothing of it."""
    await ctx.store.discard_drafts(ctx.session, draft_files(frame))
    ctx.state.stack.remove(frame)
    ctx.say(text(flow, "cancelled"))
    return None


# --- adding to a case that was already sent ----------------------------------------------

ADD_WINDOW = timedelta(hours=1)  # a file this soon after sending belongs to the case just sent
ADD_TO_CASE = "_add_to_case"


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
    flow = catalog().flows["report_incident"]
    return Button(text(flow, "button_more_story"), f"add:{case.ref}")


def _with_team(case: Case) -> bool:
    """Whether the support team has this case (its card, or one on the way)."""
    return case.slack_ts is not None or any(e.kind == "escalated" for e in case.events)


@feature.action("ask_addition")
async def ask_addition(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Ask for what to add to the case, with a button to finish."""
    buttons = [Button(c.label, c.value) for c in flow.step("addition").buttons]
    ctx.say(text(flow, "ask_addition", ref=frame.slots["case_ref"]), buttons)
    return None


@feature.action("add_to_case")
async def add_to_case(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Put each file or text on the case's timeline at once, and in its thread for the team."""
    ref = str(frame.slots["case_ref"])
    case = await own_case(ctx, ref)
    if case is None:
        ctx.say(text(flow, "case_gone"))
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
            to_team = text(flow, "team_file", kind=kind, hash=item.sha256[:12])
            await relay.tell_team(
                ctx.store, ctx.session, case, "evidence", evidence=item.id, text=to_team
            )
        ctx.say(text(flow, "added_file", ref=ref, kind=kind, hash=item.sha256[:12]))
    if not ctx.incoming.attachments and ctx.text:
        note = ctx.text[:MAX_NOTE]
        added["notes"].append(note)
        await ctx.store.add_event(ctx.session, case, "note_added", "melder", {"text": note})
        if team:
            to_team = text(flow, "team_note", text=note)
            await relay.tell_team(ctx.store, ctx.session, case, "note", text=to_team)
        ctx.say(text(flow, "added_note", ref=ref))
    return None


@feature.action("finish_addition")
async def finish_addition(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Say where what was added is now."""
    ref = str(frame.slots["case_ref"])
    added = frame.slots.get("addition") or {"files": [], "notes": []}
    case = await own_case(ctx, ref)
    if not added["files"] and not added["notes"]:
        ctx.say(text(flow, "added_nothing", ref=ref))
    elif case is not None and _with_team(case):
        ctx.say(text(flow, "added_done_team", ref=ref))
    else:
        ctx.say(text(flow, "added_done", ref=ref))
    return END


def _case_values(ctx: TurnContext, case: Case) -> dict[str, str]:
    flow = catalog().flows["case_status"]
    report = catalog().flows["report_incident"]
    if case.kind == "support":
        kind = text(flow, "kind_support")
    else:
        kind = choice_label(report, "incident_type", case.incident_type) or text(
            flow, "type_unknown"
        )
    return {
        "ref": case.ref,
        "date": case.created_at.astimezone(AMSTERDAM).strftime("%d-%m-%Y"),
        "type": kind,
        "status": text(flow, f"status_{case.status}"),
    }


@feature.action("list_own_cases")
async def list_own_cases(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """The reporter's own cases, newest first, with a button per case."""
    cases = list(await ctx.store.cases(ctx.session, ctx.reporter.id))
    if not cases:
        ctx.say(text(flow, "no_cases"))
        return END
    lines = [text(flow, "cases_intro")]
    lines += [text(flow, "case_line", **_case_values(ctx, c)) for c in cases[:10]]
    buttons = [Button(c.ref, f"case:{c.ref}") for c in cases[:5]]
    ctx.say("\n".join(lines), buttons)
    return END


async def show_case(ctx: TurnContext, ref: str) -> bool:
    """One of the reporter's own cases in detail; False when it is not theirs."""
    case = await ctx.store.case_by_ref(ctx.session, ref)
    if case is None or case.reporter_id != ctx.reporter.id:
        return False
    flow = catalog().flows["case_status"]
    can_add = not (case.deleted_at or case.purged_at)  # the same test as own_case's
    buttons = [add_button(ctx, case)] if can_add else []
    if not case.purged_at:
        buttons.append(dossier_button(ctx, case.ref))
    ctx.say(text(flow, "case_detail", **_case_values(ctx, case)), buttons)
    return True


@feature.button("add")
async def on_add(ctx: TurnContext, ref: str) -> None:
    """Start adding to one of the reporter's own sent cases."""
    if await own_case(ctx, ref) is None:
        ctx.say(text(None, "expired_button"))
        await ctx.engine.reask(ctx)
        return
    if ctx.state.stack and ctx.state.stack[-1].flow == ADD_TO_CASE:
        ctx.state.stack.pop()  # adding to another case instead
    await ctx.engine.start(ctx, ADD_TO_CASE, {"case_ref": ref})


@feature.button("case")
async def on_case(ctx: TurnContext, ref: str) -> None:
    await ctx.resume(expired=not await show_case(ctx, ref))


@feature.on_files
async def files_just_after(ctx: TurnContext) -> bool:
    """A screenshot right after sending belongs to that report: it is added to it."""
    sent = await just_sent(ctx) if ctx.engine.active(ctx.state) is None else None
    if sent is None:
        return False
    await ctx.engine.start(ctx, ADD_TO_CASE, {"case_ref": sent.ref})
    await ctx.engine.answer(ctx)
    return True


@feature.offer
async def offer_addition(ctx: TurnContext) -> tuple[Button, ...]:
    """Right after sending a report, "ik heb nog een screenshot" is offered a way to add it."""
    sent = await just_sent(ctx)
    return (add_button(ctx, sent),) if sent is not None else ()
