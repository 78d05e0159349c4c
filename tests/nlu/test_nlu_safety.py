"""Safety net: clear danger now is always `emergency`; stories and questions are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.safety import find_danger, is_emergency, normalise
from nlu.training import DATA_DIR, load_training_data

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
    return [(m.get("text"), m.get("intent")) for m in load_training_data(path).intent_examples]


@pytest.mark.parametrize(
    "path", [DATA_DIR, Path(__file__).with_name("heldout.yml")], ids=["training", "heldout"]
)
def test_never_fires_on_a_message_that_is_not_an_emergency(path):
    fired = [
        text for text, intent in _examples(path) if intent != "emergency" and is_emergency(text)
    ]
    assert fired == []
