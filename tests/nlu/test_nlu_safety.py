"""Safety net: clear danger now is always `emergency`; stories and questions are not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlu import Parse
from nlu.evaluation import load_examples
from nlu.safety import (
    PAST_ENDINGS,
    find_danger,
    is_emergency,
    load_words,
    needs_112_line,
    normalise,
)
from nlu.training import DATA_DIR

DANGER_NOW = [
    "er staat iemand met een mes voor mijn deur",
    "Er staat iemand met een mes voor m'n deur!!",
    "man met mes voor de deur",
    "hij heeft een pistool en staat in de hal",
    "ik sta als wethouder in de raadszaal en iemand bedreigt ons met een mes",
    "er staat iemand met een mes, wat moet ik doen als hij binnenkomt",
    "er zwaait een man met een bijl op de parkeerplaats",
    "ik word nu bedreigd",
    "ik wordt nu bedreigd",
    "ik word op dit moment bedreigd door een man",
    "ik word met een mes bedreigd",
    "help nu",
    "HELP NU!!!",
    "help me snel",
    "nu help",
    "help help",
    "help!!",
    "kom snel",
    "snel hulp nodig",
    "ik ben in gevaar",
    "ik ben in levensgevaar",
    "we zijn in gevaar",
    "i'm in danger",
    "ik ben bang voor mijn leven",
    "er wordt ingebroken",
    "er word ingebroken bij ons",
    "er is iemand aan het inbreken",
    "iemand probeert mijn huis binnen te komen",
    "ze proberen de deur open te breken",
    "er is iemand in mijn huis",
    "someone is trying to break into my house",
    "ik heb me in de badkamer opgesloten",
    "iemand volgt me",
    "er rijdt al tien minuten een auto achter me aan",
    "ik word nu achtervolgd",
    "mijn huis staat in brand",
    "het brandt!",
    "brand! ze hebben iets door de brievenbus gegooid",
    "ze proberen mijn auto in brand te steken",
    "er wordt geschoten",
    "er staan mannen voor mijn huis te schreeuwen",
    "hij staat voor de deur en bonkt en schreeuwt",
    "ze gooien stenen door mijn ramen",
    "hij slaat me",
    "de dader staat er nog",
    "spoed",
    "noodgeval",
]

NOT_DANGER_NOW = [
    "vorige week stond er iemand met een mes",
    "Vorige week stond er iemand met een mes voor mijn deur, ik wil dat melden",
    "Gisteravond gaat de bel, staat er een man met een mes voor de deur.",
    "wat moet ik doen als iemand met een mes voor de deur staat",
    "is er een training over wat je doet als iemand een wapen trekt",
    "hij heeft me vorig jaar met een mes bedreigd",
    "hij dreigde me met zijn mes",
    "ik word al maanden bedreigd op twitter",
    "ik word steeds uitgescholden",
    "hij volgt me al weken",
    "mijn auto is vorige maand in brand gestoken",
    "er is ingebroken in mijn auto",
    "de dader is nog steeds niet gepakt",
    "ben ik in gevaar als mijn adres online staat?",
    "help",
    "help menu",
    "help, hoe kan ik snel aangifte doen",
    "hulp",
    "ik heb hulp nodig bij mijn aangifte",
    "ik wil met iemand praten",
    "hoe doe ik aangifte",
    "ik was bang voor mijn leven toen hij daar stond",
    "ik word regelmatig aangevallen op social media",
    "is doxing strafbaar",
    "goedemorgen",
]


@pytest.mark.parametrize("text", DANGER_NOW)
def test_danger_now_is_an_emergency(text):
    assert is_emergency(text), text


@pytest.mark.parametrize("text", NOT_DANGER_NOW)
def test_stories_and_questions_are_not_an_emergency(text):
    assert find_danger(text) is None


def test_accents_and_curly_quotes_do_not_matter():
    assert normalise("Er  staat iemand bij m\u2019n deur, ik ben ge\u00efntimideerd") == (
        "er staat iemand bij m'n deur, ik ben geintimideerd"
    )
    assert is_emergency("IK BEN IN GEVAAR")


def test_danger_names_the_rule_and_phrase():
    danger = find_danger("Er staat iemand met een mes voor mijn deur")
    assert danger is not None
    assert danger.rule == "weapon"
    assert "mes" in danger.phrase


def _examples(path: Path) -> list[tuple[str, str]]:
    return [(text, intent) for text, intent, _ in load_examples(path)]


@pytest.mark.parametrize(
    "path", [DATA_DIR, Path(__file__).with_name("heldout.yml")], ids=["training", "heldout"]
)
def test_never_fires_on_a_message_that_is_not_an_emergency(path):
    fired = [
        text for text, intent in _examples(path) if intent != "emergency" and is_emergency(text)
    ]
    assert fired == []


# --- the rules as combinations of word classes ------------------------------------------------

WORDS = load_words()


def _entries(name: str) -> list[str]:
    return [" ".join(entry).replace("*", "nu") for entry in WORDS.classes[name]]


@pytest.mark.parametrize("place", _entries("place"))
def test_someone_there_at_any_place_close_by_is_danger(place):
    assert find_danger(f"er staat iemand bij de {place}"), place
    assert find_danger(f"vorige week staat er iemand bij de {place}") is None, place
    assert find_danger(f"wat doe ik als er iemand bij de {place} staat") is None, place


@pytest.mark.parametrize("verb", _entries("presence"))
def test_any_present_verb_of_presence_with_a_place_is_danger(verb):
    assert find_danger("iemand bij de deur") is None
    assert find_danger(f"iemand {verb} bij de deur"), verb


@pytest.mark.parametrize("marker", _entries("now"))
def test_any_marker_of_now_makes_someone_close_by_danger(marker):
    assert find_danger(f"{marker} iemand bij de deur"), marker
    assert find_danger(f"gisteren was er iemand bij de deur, {marker} is alles rustig") is None


@pytest.mark.parametrize("marker", _entries("now"))
def test_a_marker_of_now_outweighs_a_past_story(marker):
    assert find_danger(f"vorige week dreigde hij al, {marker} staat hij bij de deur"), marker


@pytest.mark.parametrize("verb", _entries("attack"))
def test_someone_attacking_is_danger_unless_online(verb):
    assert find_danger(f"iemand {verb}"), verb
    assert find_danger(f"iemand {verb} op facebook") is None, verb


@pytest.mark.parametrize("weapon", _entries("weapon"))
def test_a_weapon_close_by_is_danger(weapon):
    assert find_danger(f"iemand met een {weapon} bij de deur"), weapon
    assert find_danger(f"hij heeft me vorig jaar met een {weapon} bedreigd") is None, weapon


@pytest.mark.parametrize("fear", _entries("fear"))
def test_fear_with_someone_near_is_danger(fear):
    assert find_danger(f"{fear}, er loopt iemand om het huis"), fear
    assert find_danger(f"{fear} hier"), fear


@pytest.mark.parametrize("participle", _entries("hurt"))
def test_being_attacked_now_is_danger_but_not_for_weeks_or_online(participle):
    assert find_danger(f"ik word {participle}"), participle
    assert find_danger(f"ik word al weken {participle}") is None, participle
    assert find_danger(f"ik word {participle} op twitter") is None, participle
    assert find_danger(f"hoe is het om {participle} te worden") is None, participle


@pytest.mark.parametrize("shout", _entries("shout") + _entries("cry"))
@pytest.mark.parametrize("urgent", _entries("urgent"))
def test_a_cry_with_an_urgent_word_is_danger_alone_it_is_not(shout, urgent):
    assert find_danger(f"{shout} {urgent}"), (shout, urgent)
    if shout.split()[0] == "help":
        assert find_danger(f"{shout} {shout}"), shout
    assert find_danger(shout) is None, shout


@pytest.mark.parametrize("alarm", _entries("alarm"))
def test_an_alarm_word_is_danger_unless_denied(alarm):
    assert find_danger(alarm), alarm
    assert find_danger(f"geen {alarm}, wel een vraag") is None, alarm


@pytest.mark.parametrize("negation", _entries("negation"))
def test_a_negation_in_the_same_clause_takes_danger_away(negation):
    assert find_danger(f"er staat {negation} bij de deur") is None, negation
    assert find_danger(f"ik weet het {negation}, er staat iemand bij de deur"), negation


@pytest.mark.parametrize("gone", _entries("gone"))
def test_someone_who_has_gone_is_no_danger_now(gone):
    assert find_danger(f"er stond iemand bij de deur maar hij {gone}") is None, gone


@pytest.mark.parametrize(
    "word",
    [
        w
        for w in _entries("place") + _entries("weapon")
        if len(w) >= 6 and " " not in w and not w.endswith(PAST_ENDINGS)
    ],
)
def test_one_typo_or_a_doubled_letter_still_counts(word):
    dropped = word[:-2] + word[-1]
    doubled = word[:3] + word[3] + word[3:]
    for typed in (dropped, doubled):
        assert find_danger(f"iemand met een {typed} staat bij de {typed}"), typed


def test_a_past_tense_is_never_read_as_a_typo_of_the_present():
    assert find_danger("iemand bonkte op de deur") is None
    assert find_danger("ze gooiden stenen door het raam") is None
    assert is_emergency("iemand bonkt op de deur")


def test_a_word_people_really_type_is_not_a_typo_of_a_danger_word():
    assert find_danger("ik wil stoppen") is None  # not "stokken"
    assert find_danger("met de woorden ik maak je af") is None  # not "worden"
    assert find_danger("in de raadszaal van het gemeentehuis, kamer 12") is None  # not "hamer"


# --- the 112 line on every reply to an incident that may be going on -------------------------

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "intent, fallback",
    [("report_incident", False), ("out_of_scope", False), ("find_protocol", True), ("help", False)],
)
@pytest.mark.parametrize(
    "when, line",
    [
        ("", True),
        ("net ", True),
        ("vanochtend ", True),
        ("twee uur geleden ", True),
        ("gisteravond ", False),
        ("vorige week ", False),
        ("op 2 maart ", False),
    ],
)
def test_the_112_line_goes_on_a_reply_to_an_incident_not_clearly_past(intent, fallback, when, line):
    parse = Parse(f"{when}sloeg hij me met een stok", intent, 0.5, (), (), "classifier", fallback)
    assert needs_112_line(parse, NOW) is line


def test_no_112_line_without_an_incident_unless_the_classifier_hears_danger():
    assert not needs_112_line(
        Parse("ik wil iets melden", "report_incident", 0.9, (), (), "classifier", False), NOW
    )
    assert needs_112_line(
        Parse("zo snel als het kan", "emergency", 0.2, (), (), "classifier", True), NOW
    )
