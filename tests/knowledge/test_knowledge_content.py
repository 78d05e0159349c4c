"""The shipped content is complete, sourced and uses only allowed contacts."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from knowledge import ROLES, TOPICS, Entry, Knowledge, KnowledgeError, render, render_more
from knowledge.base import ROOT
from knowledge.content import digits, phone_numbers, read_allow_list, web_addresses
from tests.knowledge.entries import ENTRY, write_entry

FACT_SHEET = ROOT.parent.parent / "shared" / "docs" / "domain-facts.md"
OUTDATED_VERTROUWENSLIJN = "08002800200"
OT_PHONE = "0703738314"
CONTENT_FILES = sorted((ROOT / "protocols").glob("*.md")) + sorted((ROOT / "training").glob("*.md"))

REQUIRED_PROTOCOLS = [
    "eerste-stappen",
    "aangifte-doen",
    "online-bedreiging",
    "doxing",
    "bewijs-bewaren",
    "woningscan",
    "beveiligingsmaatregelen-thuis",
    "stelsel-bewaken-beveiligen",
    "ondersteuningsteam",
    "nazorg",
    "pers-en-sociale-media",
    "bijeenkomst",
    "werkgever-ambtenaren",
    "veiligheidspakket",
    "agressieprotocol-vinden",
    "meld-misdaad-anoniem",
    "discriminatie-online",
]
REQUIRED_TRAINING = ["training-intimidatie-bedreiging", "ot-on-tour", "arbocatalogus-agressie"]


def fact_sheet() -> str:
    if not FACT_SHEET.is_file():
        pytest.skip("the fact sheet is not next to this checkout")
    return FACT_SHEET.read_text(encoding="utf-8")


def test_every_entry_is_complete(knowledge: Knowledge) -> None:
    entries = knowledge.entries()
    assert len(entries) == len(CONTENT_FILES)
    for entry in entries:
        assert entry.id and entry.title and entry.answer, entry.id
        assert entry.steps and all(entry.steps), entry.id
        assert entry.sources, entry.id
        assert isinstance(entry.reviewed, date) and entry.reviewed > date(2020, 1, 1), entry.id
        assert entry.topics, entry.id


def test_the_asked_subjects_are_covered(knowledge: Knowledge) -> None:
    assert len(knowledge.entries("protocol")) >= 15
    for entry_id in REQUIRED_PROTOCOLS:
        assert knowledge.get(entry_id) is not None, entry_id
        assert knowledge.get(entry_id).kind == "protocol"  # type: ignore[union-attr]
    for entry_id in REQUIRED_TRAINING:
        assert knowledge.get(entry_id).kind == "training"  # type: ignore[union-attr]
    assert {t for e in knowledge.entries() for t in e.topics} == set(TOPICS)


def messages(entry: Entry) -> list[str]:
    """Every message the chat can show for an entry: the first answer per role, and the rest."""
    return [render(entry, role=role) for role in (None, *ROLES)] + [render_more(entry)]


def test_training_entries_say_who_what_by_whom_and_how(knowledge: Knowledge) -> None:
    for entry in knowledge.entries("training"):
        assert entry.audience and entry.format and entry.how_to_join
        first = render(entry)
        assert "Voor wie: " in first and "Aanmelden: " in first
        assert all("niet bevestigd" not in text.lower() for text in messages(entry)), entry.id
    for entry in knowledge.entries("protocol"):
        assert (entry.audience, entry.format, entry.provider, entry.how_to_join) == (None,) * 4


def test_training_speaks_to_the_role(knowledge: Knowledge) -> None:
    def first_answer(role: str) -> str:
        hits = knowledge.search("training", kind="training", role=role, limit=1)
        return render(hits[0].entry, role=role)

    assert first_answer("burgemeester") != first_answer("raadslid")
    assert "Veiligheidspakket" in first_answer("burgemeester")
    assert "griffie" in first_answer("raadslid")
    for hit in knowledge.search("training", kind="training", role="ambtenaar", limit=5):
        # An ambtenaar has no griffie to turn to: the employer is the way in.
        assert "griffie" not in render(hit.entry, role="ambtenaar").lower(), hit.entry.id


def test_every_first_answer_fits_on_a_phone(knowledge: Knowledge) -> None:
    for entry in knowledge.entries():
        for role in (None, *ROLES):
            first = render(entry, role=role)
            assert len(first) <= 500, (entry.id, role, len(first))
            assert first.count("https://") >= 1 and first.splitlines()[-1].startswith(
                "Bron: https://"
            ), entry.id
        if entry.kind == "protocol":
            assert 2 <= len(entry.steps) <= 4, entry.id


def test_key_facts_are_in_their_entries(knowledge: Knowledge) -> None:
    def text(entry_id: str) -> str:
        entry = knowledge.get(entry_id)
        assert entry is not None
        return render(entry) + "\n" + render_more(entry)

    assert text("eerste-stappen").index("112") < text("eerste-stappen").index("0900-8844")
    for fact in ("112", "0900-8844", "VPT-incident", "ELA", "werkgever", "aangifte onder nummer"):
        assert fact in text("aangifte-doen"), fact
    for fact in ("1 januari 2024", "285d"):
        assert fact in text("doxing"), fact
    assert "020-261 52 75" in text("online-bedreiging")
    assert "0900-0101" in text("nazorg")
    assert "0800-7000" in text("meld-misdaad-anoniem")
    assert "geen aangifte" in text("meld-misdaad-anoniem")
    assert "groep" in text("discriminatie-online")


def test_every_phone_number_in_the_content_is_allowed() -> None:
    allow = read_allow_list(ROOT)
    found = []
    for path in CONTENT_FILES:
        for number in phone_numbers(path.read_text(encoding="utf-8")):
            assert allow.allows_phone(number), f"{path.name}: {number}"
            found.append(digits(number))
    assert {"112", "09008844", "09000101", OT_PHONE} <= set(found)


def test_allowed_numbers_come_from_the_fact_sheet() -> None:
    facts = fact_sheet()
    for listed in read_allow_list(ROOT).contacts.values():
        for phone in listed.phones:
            assert phone in facts, phone


def test_outdated_vertrouwenslijn_is_never_used() -> None:
    allow = read_allow_list(ROOT)
    assert not allow.allows_phone("0800-2800 200")
    texts = [p.read_text(encoding="utf-8") for p in (*CONTENT_FILES, ROOT / "contacts.yml")]
    for text in texts:
        assert OUTDATED_VERTROUWENSLIJN not in re.sub(r"\D", "", text)
        assert "vertrouwenslijn" not in text.lower()


def test_no_email_addresses_are_given() -> None:
    # The fact sheet mentions an OT address that nobody saw: none may appear.
    for path in CONTENT_FILES:
        assert not re.search(r"\S+@\S+\.\w+", path.read_text(encoding="utf-8")), path.name


def test_the_unchecked_ot_number_carries_its_caveat_once_where_it_is_shown(
    knowledge: Knowledge,
) -> None:
    caveat = read_allow_list(ROOT).contacts["Ondersteuningsteam Weerbaar Bestuur"].caveat
    assert caveat and "niet kunnen controleren" in caveat
    shown = 0
    for entry in knowledge.entries():
        for text in messages(entry):
            if OT_PHONE in {digits(number) for number in phone_numbers(text)}:
                assert text.count(caveat) == 1, (entry.id, text)
                shown += 1
            else:
                assert caveat not in text, entry.id
    assert shown >= 5


def checked_link(source: str, facts: str) -> bool:
    """A link the fact sheet gives whole (not shortened), or an organisation's home page."""
    address = source.removeprefix("https://")
    if "/" not in address:
        return True
    address = address.removeprefix("www.")
    at = facts.find(address)
    while at >= 0:
        if not facts[at + len(address) :].startswith(("...", "…")):
            return True
        at = facts.find(address, at + 1)
    return False


def test_sources_are_checked_links_from_the_fact_sheet(knowledge: Knowledge) -> None:
    facts = fact_sheet()
    for entry in knowledge.entries():
        for source in entry.sources:
            assert source.startswith("https://"), f"{entry.id}: {source}"
            assert checked_link(source, facts), f"{entry.id}: {source}"


def test_web_addresses_in_the_content_are_allowed(knowledge: Knowledge) -> None:
    allow = read_allow_list(ROOT)
    for entry in knowledge.entries():
        body = " ".join((entry.answer, *entry.steps, *(c.url or "" for c in entry.contacts)))
        for host in web_addresses(body):
            assert allow.allows_address(host), f"{entry.id}: {host}"


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Bel 112 of 0900-8844.", ["112", "0900-8844"]),
        ("Bel 070-373 83 14 of 070-3738314.", ["070-373 83 14", "070-3738314"]),
        ("Bel +31 70 373 83 14 vandaag.", ["+31 70 373 83 14"]),
        ("Helpwanted (020-261 52 75) helpt.", ["020-261 52 75"]),
        ("Een boete tot € 22.500, 200% hoger, sinds 2024.", []),
        ("nos.nl/artikel/2238252 en stcrt-2023-28233 en 2019/02/04", []),
    ],
)
def test_phone_numbers_are_recognised(text: str, numbers: list[str]) -> None:
    assert phone_numbers(text) == numbers


def test_a_plus31_number_matches_its_local_form() -> None:
    assert read_allow_list(ROOT).allows_phone("+31 70 373 83 14")


def test_a_valid_extra_entry_loads(content: Path) -> None:
    write_entry(content)
    entry = Knowledge.load(content).get("test-protocol")
    assert entry is not None
    assert entry.steps == ("Eerste stap.", "Tweede stap.")
    assert entry.answer == "Een korte uitleg in één alinea."
    assert (entry.more, entry.more_steps) == ("Wat je verder nog kunt doen.", ("Derde stap.",))
    assert entry.link == "https://politie.nl/themas/aangifte-doen.html"


def broken(old: str, new: str) -> str:
    assert old in ENTRY
    return ENTRY.replace(old, new).format(id="test-protocol")


SOURCE = "  - https://politie.nl/themas/aangifte-doen.html\n"
LONG_STEP = "Een stap die veel te lang is voor het eerste antwoord op een telefoon " * 2

BAD_ENTRIES = [
    (broken("sources:\n" + SOURCE, ""), "missing sources"),
    (broken("sources:\n" + SOURCE, "sources: []\n"), "missing sources"),
    (broken(SOURCE, "  - politie.nl/themas/aangifte-doen.html\n"), "not a full https:// link"),
    (broken(SOURCE, "  - https://politie.nl/.../aangifte\n"), "not a full https:// link"),
    (broken(SOURCE, "  - security.nl 822509\n"), "not a full https:// link"),
    (
        broken("2. Tweede stap.", "2. Twee.\n3. Drie.\n4. Vier.\n5. Vijf."),
        "5 steps before '## Meer'",
    ),
    (
        broken(
            "1. Eerste stap.\n2. Tweede stap.", "\n".join(f"{n}. {LONG_STEP}" for n in (1, 2, 3))
        ),
        "the first answer is",
    ),
    (broken("\nWat je verder nog kunt doen.\n\n1. Derde stap.\n", ""), "nothing after '## Meer'"),
    (broken("sources:", 'call: "112"\nsources:'), "call 112 is not the phone"),
    (broken("sources:", "for_roles:\n  koning: Hallo.\nsources:"), "unknown for_roles: koning"),
    (broken("reviewed: 2026-11-29\n", ""), "missing reviewed"),
    (broken("reviewed: 2026-11-29", "reviewed: gisteren"), "reviewed must be an ISO date"),
    (broken("title: Een testprotocol\n", ""), "missing title"),
    (broken("Een korte uitleg in één alinea.\n", ""), "missing the answer"),
    (broken("1. Eerste stap.\n2. Tweede stap.\n", ""), "missing numbered steps"),
    (broken("2. Tweede stap.", "3. Tweede stap."), "should be numbered 2"),
    (broken("in één alinea.\n", "in één alinea.\n\nEn nog een.\n"), "one paragraph"),
    (broken("topics: [aangifte]", "topics: [paniek]"), "unknown topics: paniek"),
    (broken("roles: []", "roles: [koning]"), "unknown roles: koning"),
    (broken("id: {id}", "id: iets-anders"), "id must be the file name"),
    (broken("kind: protocol", "kind: training"), "kind must be 'protocol'"),
    (broken("roles: []", "roles: []\naudience: Iedereen"), "audience is only for training"),
    (broken("roles: []", "roles: []\nsourcse: [x]"), "unknown fields: sourcse"),
    (broken("name: Politie", "name: Bureau Bewaken en Beveiligen"), "not in contacts.yml"),
    (
        broken("phone: 0900-8844", "phone: 0800-2800 200"),
        "phone 0800-2800 200 is not in contacts.yml",
    ),
    (
        broken("1. Eerste stap.", "1. Bel 0800-2800 200."),
        "phone number 0800-2800 200 is not in contacts.yml",
    ),
    (
        broken("1. Eerste stap.", "1. Bel 0612345678."),
        "phone number 0612345678 is not in contacts.yml",
    ),
    (
        broken("1. Eerste stap.", "1. Kijk op www.voorbeeld.nl."),
        "web address voorbeeld.nl is not in contacts.yml",
    ),
    ("Geen front matter.\n\n1. Stap.\n", "needs YAML front matter"),
    ("---\nid: [unclosed\n---\nTekst.\n\n1. Stap.\n", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "problem"), BAD_ENTRIES, ids=[p for _, p in BAD_ENTRIES])
def test_a_bad_entry_is_refused_with_its_file_and_problem(
    content: Path, text: str, problem: str
) -> None:
    write_entry(content, text=text)
    with pytest.raises(KnowledgeError) as refused:
        Knowledge.load(content)
    lines = [line for line in refused.value.problems if problem in line]
    assert lines, refused.value.problems
    assert all(line.startswith("knowledge/protocols/test-protocol.md: ") for line in lines)


def test_all_problems_are_reported_at_once(content: Path) -> None:
    write_entry(
        content, "eerste", broken("reviewed: 2026-11-29\n", "").replace("test-protocol", "eerste")
    )
    write_entry(content, "tweede", ENTRY.format(id="tweede").replace("0900-8844", "0612345678"))
    with pytest.raises(KnowledgeError) as refused:
        Knowledge.load(content)
    files = {line.split(":")[0] for line in refused.value.problems}
    assert files == {"knowledge/protocols/eerste.md", "knowledge/protocols/tweede.md"}


def test_a_broken_allow_list_is_refused(content: Path) -> None:
    (content / "contacts.yml").write_text("contacts: nee\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="contacts.yml"):
        Knowledge.load(content)


def test_render_shows_answer_steps_contacts_and_source(knowledge: Knowledge) -> None:
    entry = knowledge.get("aangifte-doen")
    assert entry is not None
    text = render(entry)
    assert text.startswith(entry.title + "\n\n" + entry.answer)
    assert "\n1. " in text and f"\n{len(entry.steps)}. " in text
    assert "Bel 0900-8844 (Politie)." in text
    assert text.splitlines()[-1] == "Bron: https://politie.nl/themas/aangifte-doen.html"


def test_the_rest_goes_on_with_the_steps_contacts_and_every_source(knowledge: Knowledge) -> None:
    entry = knowledge.get("aangifte-doen")
    assert entry is not None
    more = render_more(entry)
    assert more.startswith(f"{entry.title}: meer\n\n{entry.more}")
    assert f"\n{len(entry.steps) + 1}. " in more  # the steps go on where the first answer ended
    assert "- Politie: 112. " in more and "0900-8844" not in more  # the number shown once
    assert all(f"- {source}" in more for source in entry.sources)
    assert more.endswith("(bijgewerkt op 29 november 2026)")


def test_render_shows_how_to_join_a_training(knowledge: Knowledge) -> None:
    text = render(knowledge.get("ot-on-tour"))  # type: ignore[arg-type]
    assert "Voor wie: " in text and "Aanmelden: " in text and "Aanbieder: " in text


def test_every_answer_fits_in_one_chat_message(knowledge: Knowledge) -> None:
    for entry in knowledge.entries():
        assert all(len(text) < 4096 for text in messages(entry)), entry.id
