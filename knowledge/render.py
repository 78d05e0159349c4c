"""Entries as short Dutch chat messages."""

from __future__ import annotations

from datetime import date

from knowledge.model import Contact, Entry

MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()


def dutch_date(day: date) -> str:
    """A date as Dutch text: 29 november 2026."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _lowercase_start(sentence: str) -> str:
    first = sentence.split(maxsplit=1)[0]
    # Names such as NVvR or CCV keep their capitals.
    return sentence[0].lower() + sentence[1:] if first[1:].islower() else sentence


def _contact_line(contact: Contact) -> str:
    reach = ", ".join(part for part in (contact.phone, contact.url) if part)
    if reach:
        return (
            f"- {contact.name}: {reach}. {contact.note}"
            if contact.note
            else f"- {contact.name}: {reach}"
        )
    return (
        f"- {contact.name}: {_lowercase_start(contact.note)}"
        if contact.note
        else f"- {contact.name}"
    )


def render(entry: Entry) -> str:
    """The entry as chat text: title, answer, numbered steps, contacts and a source line."""
    lines = [entry.title, "", entry.answer, ""]
    lines += [f"{number}. {step}" for number, step in enumerate(entry.steps, 1)]
    if entry.kind == "training":
        lines += [
            "",
            f"Voor wie: {entry.audience}",
            f"Vorm: {entry.format}",
            f"Aanbieder: {entry.provider}",
            f"Aanmelden: {entry.how_to_join}",
        ]
    if entry.contacts:
        lines += ["", "Contact:", *(_contact_line(contact) for contact in entry.contacts)]
    sources = "; ".join(entry.sources)
    lines += ["", f"Bron: {sources} (bijgewerkt op {dutch_date(entry.reviewed)})"]
    return "\n".join(lines)
