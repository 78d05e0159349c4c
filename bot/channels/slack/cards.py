"""Block Kit for the support team: the case card, the dossier and close modals, command answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.base.clock import when
from bot.features.support.cases import case_json
from bot.store import Case
from flows import catalog, text

Blocks = list[dict[str, Any]]


class Labels:
    """How codes read: the catalogue's text `{prefix}{code}`, or the default (the code) without one."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def get(self, code: str, default: str | None = None) -> str:
        try:
            return text(None, f"{self.prefix}{code}")
        except KeyError:
            return code if default is None else default


URGENCY = Labels("card_urgency_")
KIND = Labels("card_kind_")
STATUS = Labels("card_status_")
CONTACT = Labels("card_contact_")
EVENTS = Labels("card_event_")
CHECKIN_ANSWERS = Labels("card_checkin_")
SNOOZE = ("snooze_hour", "snooze_tomorrow", "snooze_week")
DIGEST_LIMIT = 45
FIELDS = (
    "kind",
    "status",
    "urgency",
    "owner",
    "incident_type",
    "platform",
    "occurred_text",
    "location",
    "targeted",
    "role",
    "aangifte",
    "wants_support",
    "wants_checkins",
    "contact_preference",
    "phone",
    "closed_reason",
    "created_at",
)
SUMMARY_CHARS = 300
MAX_TIMELINE = 40
_OWNER = re.compile(r"^(?P<name>.*) \((?P<id>[UW][A-Z0-9]+)\)$")


@dataclass(frozen=True)
class Card:
    """A message for the support channel: notification text and blocks."""

    text: str
    blocks: Blocks


def escape(text: str) -> str:
    """Text from outside, shown literally (no mentions, links or markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def owner_text(owner: str | None) -> str:
    """The owner as a Slack mention when we know their id."""
    if not owner:
        return text(None, "card_owner_nobody")
    match = _OWNER.match(owner)
    return f"<@{match['id']}>" if match else escape(owner)


def _label(flow: str, slot: str, value: str | None) -> str:
    if not value:
        return text(None, "card_unknown")
    known = catalog().flows.get(flow)
    found = known.slots[slot].choice(value) if known and slot in known.slots else None
    return found.label if found else value.replace("_", " ").capitalize()


def type_text(case: Case) -> str:
    if case.incident_type:
        return _label("report_incident", "incident_type", case.incident_type)
    return KIND.get(case.kind)


def title(case: Case) -> str:
    flag = ":rotating_light: " if case.urgency == "urgent" else ""
    return f"{flag}{KIND.get(case.kind, text(None, 'card_kind_incident'))} {case.ref}"


def _summary(case: Case) -> str:
    if case.purged_at is not None:
        return text(None, "card_purged")
    story = " ".join((case.story or "").split())
    if not story:
        return text(None, "card_no_story")
    if len(story) > SUMMARY_CHARS:
        story = story[: SUMMARY_CHARS - 1].rstrip() + "…"
    return escape(story)


def _status(case: Case) -> str:
    status = STATUS.get(case.status)
    if case.status == "closed" and case.closed_reason:
        return f"{status}: {escape(case.closed_reason)}"
    return status


def _contact(case: Case) -> str:
    wish = CONTACT.get(case.contact_preference or "", text(None, "card_wish_not_asked"))
    if case.contact_preference == "bellen":
        return text(None, "card_wish_number" if case.phone else "card_wish_no_number", wish=wish)
    return wish


def _button(action: str, ref: str, style: str | None = None) -> dict[str, Any]:
    """A button labelled with the catalogue's `card_button_{action}`."""
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text(None, f"card_button_{action}")},
        "action_id": action,
        "value": ref,
    }
    if style:
        button["style"] = style
    return button


def actions(case: Case) -> dict[str, Any]:
    """The buttons that fit the case's status."""
    buttons = []
    if case.status != "closed":
        if case.status == "open" or not case.owner:
            buttons.append(_button("ack", case.ref, "primary"))
        if case.status == "in_contact":
            buttons.append(_button("end_chat", case.ref))
        else:
            buttons.append(_button("chat", case.ref))
        buttons.append(_button("close", case.ref, "danger"))
    buttons.append(_button("dossier", case.ref))
    return {"type": "actions", "block_id": "case_actions", "elements": buttons}


def card(case: Case) -> Card:
    """The escalation card: what happened, who, when, how to reach them, and the buttons."""
    reporter = case.reporter
    occurred = case.occurred_text or (when(case.occurred_at) if case.occurred_at else None)
    fields = [
        ("ref", case.ref),
        ("urgency", URGENCY.get(case.urgency)),
        ("kind", type_text(case)),
        ("reporter_role", _label("find_training", "role", reporter.role)),
        (
            "municipality",
            escape(reporter.municipality) if reporter.municipality else text(None, "card_unknown"),
        ),
        ("reporter", text(None, "card_verified" if reporter.verified else "card_not_verified")),
        (
            "occurred_text",
            escape(occurred)
            if occurred
            else text(None, "card_reported", when=when(case.created_at)),
        ),
        ("contact_preference", _contact(case)),
        ("status", _status(case)),
        ("owner", owner_text(case.owner)),
    ]
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title(case)}},
        {
            "type": "section",
            "block_id": "case_fields",
            "fields": [
                {"type": "mrkdwn", "text": f"*{text(None, f'card_field_{key}')}*\n{value}"}
                for key, value in fields
            ],
        },
        {
            "type": "section",
            "block_id": "case_summary",
            "text": {
                "type": "mrkdwn",
                "text": f"*{text(None, 'card_field_summary')}*\n{_summary(case)}",
            },
        },
        actions(case),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": text(None, "card_reply_here", when=when(case.created_at)),
                }
            ],
        },
    ]
    kind = KIND.get(case.kind, text(None, "card_kind_incident"))
    summary = f"{kind} {case.ref} ({URGENCY.get(case.urgency).lower()}): {_status(case).lower()}"
    return Card(summary, blocks)


def _value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    if key == "created_at":
        return when(datetime.fromisoformat(value))
    if key in ("wants_support", "wants_checkins"):
        return text(None, "card_yes" if value else "card_no")
    if key == "owner":
        return owner_text(value)
    if key == "status":
        return STATUS.get(value)
    if key == "urgency":
        return URGENCY.get(value)
    if key == "kind":
        return KIND.get(value)
    if key == "contact_preference":
        return CONTACT.get(value)
    return escape(str(value))


def _chunks(lines: list[str], limit: int = 2900) -> list[str]:
    """Join lines into texts that fit a section block."""
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + len(line) + 1 <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:limit])
    return chunks


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def dossier(case: Case) -> dict[str, Any]:
    """A modal with every field, the evidence list and the timeline."""
    data = case_json(case)
    reporter = case.reporter
    lines = [f"*{text(None, f'card_field_{key}')}:* {_value(key, data[key])}" for key in FIELDS]
    role = _label("find_training", "role", reporter.role)
    lines.append(f"*{text(None, 'card_field_reporter_role')}:* {role}")
    municipality = escape(reporter.municipality or "–")
    lines.append(f"*{text(None, 'card_field_municipality')}:* {municipality}")
    story = escape(case.story or "–")
    unnamed = text(None, "card_evidence_unnamed")
    evidence = [
        f"• {e['kind']}: {escape(e['filename'] or unnamed)}, {e['size']} bytes, "
        f"sha256 {e['sha256'][:12]}…, {when(datetime.fromisoformat(e['received_at']))}"
        for e in data["evidence"]
    ] or [text(None, "card_no_evidence")]
    timeline = [
        f"• {when(datetime.fromisoformat(e['at']))} – {EVENTS.get(e['kind'])} – {escape(e['actor'])}"
        + (f" ({escape(str(e['detail']['reason']))})" if "reason" in e["detail"] else "")
        + (
            f" ({CHECKIN_ANSWERS.get(str(e['detail']['answer']), '?')})"
            if "answer" in e["detail"]
            else ""
        )
        for e in data["timeline"][-MAX_TIMELINE:]
    ]
    blocks: Blocks = [section(chunk) for chunk in _chunks(lines)]
    for heading, part in (
        ("card_dossier_story", [story]),
        ("card_dossier_evidence", evidence),
        ("card_dossier_timeline", timeline),
    ):
        blocks.append({"type": "divider"})
        blocks += [section(chunk) for chunk in _chunks([f"*{text(None, heading)}*", *part])]
    return {
        "type": "modal",
        "callback_id": "dossier",
        "title": {
            "type": "plain_text",
            "text": text(None, "card_dossier_title", ref=case.ref)[:24],
        },
        "close": {"type": "plain_text", "text": text(None, "card_dossier_close")},
        "blocks": blocks[:100],
    }


def close_form(ref: str) -> dict[str, Any]:
    """A modal that asks why the case is closed."""
    return {
        "type": "modal",
        "callback_id": "close_case",
        "private_metadata": ref,
        "title": {"type": "plain_text", "text": text(None, "card_close_title")},
        "submit": {"type": "plain_text", "text": text(None, "card_button_close")},
        "close": {"type": "plain_text", "text": text(None, "card_close_cancel")},
        "blocks": [
            section(text(None, "card_close_intro", ref=ref)),
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": text(None, "card_close_reason")},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "max_length": 200,
                    "placeholder": {
                        "type": "plain_text",
                        "text": text(None, "card_close_placeholder"),
                    },
                },
            },
        ],
    }


def reminder(case: Case, said: str) -> Card:
    """A reminder for the case's owner, with snooze buttons and Afsluiten."""
    message = f"{owner_text(case.owner)} {escape(said)}"
    buttons = [_button(action, case.ref) for action in SNOOZE]
    buttons.append(_button("close", case.ref, "danger"))
    return Card(
        message,
        [section(message), {"type": "actions", "block_id": "reminder", "elements": buttons}],
    )


def digest(cases: list[Case]) -> Card:
    """The daily list of open cases nobody has picked up, each with Oppakken."""
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": text(None, "card_digest_title")}}
    ]
    for case in cases[:DIGEST_LIMIT]:
        line = f"*{case.ref}* · {URGENCY.get(case.urgency)} · {type_text(case)} · " + text(
            None, "card_digest_reported", when=when(case.created_at)
        )
        if not case.wants_support:
            line += " · " + text(None, "card_digest_no_contact")
        blocks.append(
            {
                "type": "section",
                "block_id": f"digest_{case.ref}",
                "text": {"type": "mrkdwn", "text": line},
                "accessory": _button("ack", case.ref, "primary"),
            }
        )
    if len(cases) > DIGEST_LIMIT:
        more = text(None, "card_digest_more", n=len(cases) - DIGEST_LIMIT)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    counted = catalog().count(None, "card_digest_cases", len(cases))
    return Card(text(None, "card_digest_text", counted=counted), blocks)


def open_cases(cases: list[Case]) -> Card:
    """The answer to `/weerbaar open`."""
    if not cases:
        none = text(None, "card_no_open_cases")
        return Card(none, [section(none)])
    lines = [text(None, "card_open_title", n=len(cases))]
    for case in cases:
        lines.append(
            f"• *{case.ref}* · {URGENCY.get(case.urgency)} · {type_text(case)} · "
            f"{STATUS.get(case.status)} · {owner_text(case.owner)} · {when(case.created_at)}"
        )
    return Card(
        text(None, "card_open_text", n=len(cases)), [section(chunk) for chunk in _chunks(lines)]
    )


def figures(lines: list[str]) -> Card:
    """The answer to `/weerbaar cijfers`: the service level, line by line."""
    return Card(lines[0], [section(chunk) for chunk in _chunks(lines)])


HOME_WAITING = 5


def home(load: dict[str, int], waiting: list[Case], new: int, week: str) -> dict[str, Any]:
    """The Home tab of a support team member: the load now, who waits longest, this week."""
    lines = [
        text(
            None,
            "home_waiting_line",
            ref=case.ref,
            type=escape(type_text(case)),
            status=STATUS.get(case.status),
            since=when(case.created_at),
        )
        for case in waiting[:HOME_WAITING]
    ] or [text(None, "home_nobody_waiting")]
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": text(None, "home_title")}},
        section(text(None, "home_load", **load)),
        {"type": "divider"},
        section(f"*{text(None, 'home_waiting_title')}*\n" + "\n".join(lines)),
        {"type": "divider"},
        section(
            f"*{text(None, 'home_week_title')}*\n"
            + text(None, "home_week_new", new=new)
            + "\n"
            + escape(week)
        ),
    ]
    return {"type": "home", "blocks": blocks}


def home_notice(key: str) -> dict[str, Any]:
    """A Home tab with one sentence, for someone who may not see the figures."""
    return {"type": "home", "blocks": [section(text(None, key))]}
