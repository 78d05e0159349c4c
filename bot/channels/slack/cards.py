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

URGENCY = {"urgent": "Urgent", "normal": "Normaal"}
KIND = {"support": "Hulpvraag", "incident": "Melding"}
STATUS = {
    "open": "Open, nog niet opgepakt",
    "acknowledged": "Opgepakt",
    "in_contact": "In gesprek met de melder",
    "closed": "Afgesloten",
}
CONTACT = {"bellen": "Wil gebeld worden", "chatten": "Wil chatten via de bot"}
EVENTS = {
    "created": "Aangemaakt",
    "escalated": "Naar het team gestuurd",
    "card_posted": "Kaart geplaatst",
    "reescalated": "Opnieuw aangekondigd",
    "acknowledged": "Opgepakt",
    "contact_started": "Gesprek gestart",
    "contact_ended": "Gesprek beëindigd",
    "relayed_to_reporter": "Bericht aan de melder",
    "relayed_to_team": "Bericht van de melder",
    "urgency_raised": "Urgentie verhoogd naar urgent",
    "linked": "Gekoppeld aan de hulpvraag van de melder",
    "report_linked": "Melding van de melder gekoppeld",
    "dossier_viewed": "Dossier bekeken",
    "dossier_made": "Dossier voor aangifte gemaakt",
    "evidence_notes": "Beschrijving van bewijs",
    "evidence_added": "Bewijs nagestuurd",
    "note_added": "Aanvulling van de melder",
    "closed": "Afgesloten",
    "checkin_sent": "Nazorgvraag aan de melder",
    "checkin_skipped": "Nazorgvraag overgeslagen (een latere was ook aan de beurt)",
    "checkin_answered": "Antwoord op de nazorgvraag",
    "reminded": "Herinnering aan de eigenaar",
    "reminder_snoozed": "Herinnering uitgesteld",
}
CHECKIN_ANSWERS = {
    "goed": "het gaat goed",
    "niet_goed": "het gaat niet zo goed",
    "contact": "wil contact",
}
SNOOZE = (("1 uur", "snooze_hour"), ("Morgen", "snooze_tomorrow"), ("Volgende week", "snooze_week"))
DIGEST_LIMIT = 45
FIELDS = (
    ("kind", "Soort"),
    ("status", "Status"),
    ("urgency", "Urgentie"),
    ("owner", "Eigenaar"),
    ("incident_type", "Type incident"),
    ("platform", "Platform"),
    ("occurred_text", "Wanneer"),
    ("location", "Waar"),
    ("targeted", "Wie geraakt"),
    ("role", "Rol van de melder"),
    ("aangifte", "Aangifte"),
    ("wants_support", "Wil steun"),
    ("wants_checkins", "Nazorgvragen"),
    ("contact_preference", "Contact"),
    ("phone", "Telefoon"),
    ("closed_reason", "Reden afsluiten"),
    ("created_at", "Aangemaakt"),
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
        return "niemand"
    match = _OWNER.match(owner)
    return f"<@{match['id']}>" if match else escape(owner)


def _label(flow: str, slot: str, value: str | None) -> str:
    if not value:
        return "onbekend"
    known = catalog().flows.get(flow)
    found = known.slots[slot].choice(value) if known and slot in known.slots else None
    return found.label if found else value.replace("_", " ").capitalize()


def type_text(case: Case) -> str:
    if case.incident_type:
        return _label("report_incident", "incident_type", case.incident_type)
    return KIND.get(case.kind, case.kind)


def title(case: Case) -> str:
    flag = ":rotating_light: " if case.urgency == "urgent" else ""
    return f"{flag}{KIND.get(case.kind, 'Melding')} {case.ref}"


def _summary(case: Case) -> str:
    if case.purged_at is not None:
        return "_De gegevens van deze melding zijn gewist._"
    story = " ".join((case.story or "").split())
    if not story:
        return "_Geen toelichting gegeven._"
    if len(story) > SUMMARY_CHARS:
        story = story[: SUMMARY_CHARS - 1].rstrip() + "…"
    return escape(story)


def _status(case: Case) -> str:
    status = STATUS.get(case.status, case.status)
    if case.status == "closed" and case.closed_reason:
        return f"{status}: {escape(case.closed_reason)}"
    return status


def _contact(case: Case) -> str:
    wish = CONTACT.get(case.contact_preference or "", "Niet gevraagd")
    if case.contact_preference == "bellen":
        return f"{wish} (nummer in dossier)" if case.phone else f"{wish} (geen nummer gegeven)"
    return wish


def _button(text: str, action: str, ref: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
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
            buttons.append(_button("Oppakken", "ack", case.ref, "primary"))
        if case.status == "in_contact":
            buttons.append(_button("Contact beëindigen", "end_chat", case.ref))
        else:
            buttons.append(_button("Chat starten", "chat", case.ref))
        buttons.append(_button("Afsluiten", "close", case.ref, "danger"))
    buttons.append(_button("Dossier", "dossier", case.ref))
    return {"type": "actions", "block_id": "case_actions", "elements": buttons}


def card(case: Case) -> Card:
    """The escalation card: what happened, who, when, how to reach them, and the buttons."""
    reporter = case.reporter
    occurred = case.occurred_text or (when(case.occurred_at) if case.occurred_at else None)
    fields = [
        ("Nummer", case.ref),
        ("Urgentie", URGENCY.get(case.urgency, case.urgency)),
        ("Soort", type_text(case)),
        ("Rol", _label("find_training", "role", reporter.role)),
        ("Gemeente", escape(reporter.municipality) if reporter.municipality else "onbekend"),
        ("Melder", "Geverifieerd" if reporter.verified else ":warning: Niet geverifieerd"),
        ("Wanneer", escape(occurred) if occurred else f"Gemeld {when(case.created_at)}"),
        ("Contact", _contact(case)),
        ("Status", _status(case)),
        ("Eigenaar", owner_text(case.owner)),
    ]
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title(case)}},
        {
            "type": "section",
            "block_id": "case_fields",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields],
        },
        {
            "type": "section",
            "block_id": "case_summary",
            "text": {"type": "mrkdwn", "text": f"*Samenvatting*\n{_summary(case)}"},
        },
        actions(case),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Gemeld {when(case.created_at)}. "
                    "Een antwoord in deze thread gaat naar de melder.",
                }
            ],
        },
    ]
    text = f"{KIND.get(case.kind, 'Melding')} {case.ref} ({URGENCY.get(case.urgency, case.urgency).lower()}): {_status(case).lower()}"
    return Card(text, blocks)


def _value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    if key == "created_at":
        return when(datetime.fromisoformat(value))
    if key in ("wants_support", "wants_checkins"):
        return "ja" if value else "nee"
    if key == "owner":
        return owner_text(value)
    if key == "status":
        return STATUS.get(value, value)
    if key == "urgency":
        return URGENCY.get(value, value)
    if key == "kind":
        return KIND.get(value, value)
    if key == "contact_preference":
        return CONTACT.get(value, value)
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
    lines = [f"*{label}:* {_value(key, data[key])}" for key, label in FIELDS]
    lines.append(f"*Rol:* {_label('find_training', 'role', reporter.role)}")
    lines.append(f"*Gemeente:* {escape(reporter.municipality or '–')}")
    story = escape(case.story or "–")
    evidence = [
        f"• {e['kind']}: {escape(e['filename'] or 'zonder naam')}, {e['size']} bytes, "
        f"sha256 {e['sha256'][:12]}…, {when(datetime.fromisoformat(e['received_at']))}"
        for e in data["evidence"]
    ] or ["Geen bewijs ontvangen."]
    timeline = [
        f"• {when(datetime.fromisoformat(e['at']))} – {EVENTS.get(e['kind'], e['kind'])} – {escape(e['actor'])}"
        + (f" ({escape(str(e['detail']['reason']))})" if "reason" in e["detail"] else "")
        + (
            f" ({CHECKIN_ANSWERS.get(str(e['detail']['answer']), '?')})"
            if "answer" in e["detail"]
            else ""
        )
        for e in data["timeline"][-MAX_TIMELINE:]
    ]
    blocks: Blocks = [section(chunk) for chunk in _chunks(lines)]
    blocks.append({"type": "divider"})
    blocks += [section(chunk) for chunk in _chunks(["*Verhaal*", story])]
    blocks.append({"type": "divider"})
    blocks += [section(chunk) for chunk in _chunks(["*Bewijs*", *evidence])]
    blocks.append({"type": "divider"})
    blocks += [section(chunk) for chunk in _chunks(["*Tijdlijn*", *timeline])]
    return {
        "type": "modal",
        "callback_id": "dossier",
        "title": {"type": "plain_text", "text": f"Dossier {case.ref}"[:24]},
        "close": {"type": "plain_text", "text": "Sluiten"},
        "blocks": blocks[:100],
    }


def close_form(ref: str) -> dict[str, Any]:
    """A modal that asks why the case is closed."""
    return {
        "type": "modal",
        "callback_id": "close_case",
        "private_metadata": ref,
        "title": {"type": "plain_text", "text": "Melding afsluiten"},
        "submit": {"type": "plain_text", "text": "Afsluiten"},
        "close": {"type": "plain_text", "text": "Annuleren"},
        "blocks": [
            section(f"Je sluit *{ref}* af. De melder krijgt daar bericht van."),
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Reden"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "max_length": 200,
                    "placeholder": {
                        "type": "plain_text",
                        "text": "Bijvoorbeeld: gesproken, doorverwezen",
                    },
                },
            },
        ],
    }


def reminder(case: Case, text: str) -> Card:
    """A reminder for the case's owner, with snooze buttons and Afsluiten."""
    message = f"{owner_text(case.owner)} {escape(text)}"
    buttons = [_button(label, action, case.ref) for label, action in SNOOZE]
    buttons.append(_button("Afsluiten", "close", case.ref, "danger"))
    return Card(
        message,
        [section(message), {"type": "actions", "block_id": "reminder", "elements": buttons}],
    )


def digest(cases: list[Case]) -> Card:
    """The daily list of open cases nobody has picked up, each with Oppakken."""
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Nog niet opgepakt"}}
    ]
    for case in cases[:DIGEST_LIMIT]:
        line = (
            f"*{case.ref}* · {URGENCY.get(case.urgency, case.urgency)} · {type_text(case)} · "
            f"gemeld {when(case.created_at)}"
        )
        if not case.wants_support:
            line += " · geen contact gevraagd"
        blocks.append(
            {
                "type": "section",
                "block_id": f"digest_{case.ref}",
                "text": {"type": "mrkdwn", "text": line},
                "accessory": _button("Oppakken", "ack", case.ref, "primary"),
            }
        )
    if len(cases) > DIGEST_LIMIT:
        more = f"En nog {len(cases) - DIGEST_LIMIT}: zie `/weerbaar open`."
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    counted = f"{len(cases)} melding" if len(cases) == 1 else f"{len(cases)} meldingen"
    return Card(f"Nog niet opgepakt: {counted}", blocks)


def open_cases(cases: list[Case]) -> Card:
    """The answer to `/weerbaar open`."""
    if not cases:
        return Card("Er zijn geen open meldingen.", [section("Er zijn geen open meldingen.")])
    lines = [f"*Open meldingen ({len(cases)})*"]
    for case in cases:
        lines.append(
            f"• *{case.ref}* · {URGENCY.get(case.urgency, case.urgency)} · {type_text(case)} · "
            f"{STATUS.get(case.status, case.status)} · {owner_text(case.owner)} · {when(case.created_at)}"
        )
    return Card(f"{len(cases)} open meldingen", [section(chunk) for chunk in _chunks(lines)])


INVITE_USAGE = (
    "Gebruik: /weerbaar uitnodiging ROL GEMEENTE, bijvoorbeeld "
    "/weerbaar uitnodiging wethouder Zwolle."
)
HELP = (
    "*Weerbaar in Slack*\n"
    "• `/weerbaar open`: de meldingen die nog niet zijn afgesloten\n"
    "• `/weerbaar zaak WB-2026-0001`: één melding met knoppen\n"
    "• `/weerbaar uitnodiging ROL GEMEENTE`: een eenmalige link waarmee een bestuurder zich "
    "verifieert\n"
    "• `/weerbaar cijfers [periode]`: de cijfers per maand als grafiek en de reactietijd van het "
    "team, bijvoorbeeld `/weerbaar cijfers 2026-01 2026-06`\n"
    "• `/weerbaar help`: deze uitleg\n"
    "Op de kaart van een melding: *Oppakken*, *Chat starten*, *Afsluiten* en *Dossier*. "
    "Een antwoord in de thread van de kaart gaat naar de melder."
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
            status=STATUS.get(case.status, case.status),
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
