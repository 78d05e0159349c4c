"""Entries as short Dutch chat messages: a first answer that fits on a phone, and the rest."""

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


def _call_line(contact: Contact) -> str:
    line = f"Bel {contact.phone} ({contact.name})."
    return f"{line} {contact.caveat}" if contact.caveat else line


def _steps(steps: tuple[str, ...], start: int = 1) -> list[str]:
    return [f"{number}. {step}" for number, step in enumerate(steps, start)]


def render(entry: Entry, role: str | None = None) -> str:
    """The first answer: what to do now, the number that matters and one source as a link.

    A protocol shows its answer and its first steps; a training says for whom, by whom and how
    to sign up. With a role, the sentence written for that role comes first.
    """
    lines = [entry.title, ""]
    for_role = entry.for_role(role)
    lines.append(f"{for_role} {entry.answer}" if for_role else entry.answer)
    if entry.kind == "training":
        lines += ["", f"Voor wie: {entry.audience}"]
        if entry.provider:
            lines.append(f"Aanbieder: {entry.provider}")
        lines.append(f"Aanmelden: {entry.how_to_join}")
    else:
        lines += ["", *_steps(entry.steps)]
    if entry.call is not None:
        lines += ["", _call_line(entry.call)]
    lines += ["", f"Bron: {entry.link}"]
    return "\n".join(lines)


def render_more(entry: Entry) -> str:
    """The rest of an entry: further explanation and steps, contacts, every source, the date."""
    lines = [f"{entry.title}: meer"]
    if entry.more:
        lines += ["", entry.more]
    if entry.kind == "training":
        lines += ["", f"Vorm: {entry.format}"]
    steps = entry.steps + entry.more_steps if entry.kind == "training" else entry.more_steps
    start = 1 if entry.kind == "training" else len(entry.steps) + 1
    if steps:
        lines += ["", *_steps(steps, start)]
    contacts = [c for c in entry.contacts if c != entry.call]
    if contacts:
        lines += ["", "Contact:", *(_contact_line(contact) for contact in contacts)]
    lines += ["", "Bronnen:", *(f"- {source}" for source in entry.sources)]
    lines.append(f"(bijgewerkt op {dutch_date(entry.reviewed)})")
    return "\n".join(lines)
