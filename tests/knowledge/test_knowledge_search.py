"""Search finds the right entry for real questions, filtered by kind and role, lifted by topic."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from knowledge import KINDS, ROLES, Knowledge
from knowledge.analysis import Analyzer, fold, stem
from knowledge.base import TOPIC_BOOST, TOPIC_FLOOR
from knowledge.quality import measure, read_questions

QUESTIONS = read_questions(Path(__file__).with_name("queries.yml"))


def test_the_quality_set_is_big_and_points_at_real_entries(knowledge: Knowledge) -> None:
    assert len(QUESTIONS) >= 60
    assert len({q.text for q in QUESTIONS}) == len(QUESTIONS)
    for question in QUESTIONS:
        entry = knowledge.get(question.expect)
        assert entry is not None, question.expect
        assert question.kind in (None, *KINDS) and question.role in (None, *ROLES)
        assert question.kind in (None, entry.kind)
        assert question.role is None or entry.suits(question.role)
    # Every entry is the answer to at least one question.
    assert {q.expect for q in QUESTIONS} == {e.id for e in knowledge.entries()}


def test_hit_rates_meet_the_bar(knowledge: Knowledge) -> None:
    score = measure(knowledge, QUESTIONS)
    misses = "\n".join(f"{q!r}: wanted {want}, got {got}" for q, want, got in score.misses)
    assert score.hit_at_1 >= 0.8, misses
    assert score.hit_at_3 >= 0.95, misses


def test_results_are_ordered_and_repeatable(knowledge: Knowledge) -> None:
    for question in QUESTIONS:
        hits = knowledge.search(question.text, limit=10)
        keys = [(-hit.score, hit.entry.id) for hit in hits]
        assert keys == sorted(keys)
        assert all(hit.score > 0 for hit in hits)
        assert [h.entry.id for h in knowledge.search(question.text, limit=10)] == [
            h.entry.id for h in hits
        ]


@pytest.mark.parametrize("role", ROLES)
def test_training_is_filtered_by_role(knowledge: Knowledge, role: str) -> None:
    hits = knowledge.search(
        "training cursus intimidatie gesprek", kind="training", role=role, limit=50
    )
    assert hits
    assert all(hit.entry.kind == "training" and hit.entry.suits(role) for hit in hits)
    everyone = {e.id for e in knowledge.entries("training") if not e.roles}
    assert everyone <= {hit.entry.id for hit in hits}


def test_role_filter_removes_training_for_other_roles(knowledge: Knowledge) -> None:
    query = "training omgaan met intimidatie en bedreiging"
    assert knowledge.search(query, kind="training", role="raadslid")[0].entry.id == (
        "training-intimidatie-bedreiging"
    )
    found = {
        h.entry.id for h in knowledge.search(query, kind="training", role="ambtenaar", limit=50)
    }
    assert "training-intimidatie-bedreiging" not in found


def test_role_does_not_hide_protocols(knowledge: Knowledge) -> None:
    hits = knowledge.search("beveiliging van mijn huis betaald", role="raadslid", limit=5)
    assert "beveiligingsmaatregelen-thuis" in {hit.entry.id for hit in hits}


def test_kind_keeps_to_one_kind(knowledge: Knowledge) -> None:
    for kind in KINDS:
        hits = knowledge.search("training ondersteuningsteam aangifte", kind=kind, limit=50)
        assert hits and {hit.entry.kind for hit in hits} == {kind}


def test_topic_lifts_entries_on_that_topic(knowledge: Knowledge) -> None:
    plain = knowledge.search("adres", limit=50)
    lifted = knowledge.search("adres", topic="doxing", limit=50)
    assert plain[0].entry.id != "doxing"
    assert lifted[0].entry.id == "doxing"
    before = {hit.entry.id: hit.score for hit in plain}
    after = {hit.entry.id: hit.score for hit in lifted}
    assert after["doxing"] == pytest.approx(before["doxing"] * TOPIC_BOOST + TOPIC_FLOOR)
    assert after["aangifte-privacy"] == pytest.approx(before["aangifte-privacy"])


def test_topic_alone_still_finds_its_entries(knowledge: Knowledge) -> None:
    assert knowledge.search("wat moet ik nu doen") == []
    assert [h.entry.id for h in knowledge.search("wat moet ik nu doen", topic="doxing")] == [
        "doxing"
    ]


def test_limit_caps_the_results(knowledge: Knowledge) -> None:
    assert len(knowledge.search("aangifte", limit=1)) == 1
    assert len(knowledge.search("aangifte", limit=5)) == 5


@pytest.mark.parametrize("query", ["", "   ", "?!", "de het een", "qwxz blorp"])
def test_questions_without_meaning_find_nothing(knowledge: Knowledge, query: str) -> None:
    assert knowledge.search(query) == []


def test_a_huge_question_is_handled_quickly(knowledge: Knowledge) -> None:
    started = time.perf_counter()
    hits = knowledge.search("aangifte doen bedreiging " * 20_000)
    assert time.perf_counter() - started < 1.0
    assert hits[0].entry.id == "aangifte-doen"


@pytest.mark.parametrize(
    "arguments",
    [{"kind": "folder"}, {"topic": "paniek"}, {"role": "koning"}, {"limit": 0}],
)
def test_bad_arguments_are_refused(knowledge: Knowledge, arguments: dict) -> None:
    with pytest.raises(ValueError):
        knowledge.search("aangifte", **arguments)


def test_get_and_entries(knowledge: Knowledge) -> None:
    assert knowledge.get("doxing").title.startswith("Doxing")  # type: ignore[union-attr]
    assert knowledge.get("bestaat-niet") is None
    assert all(e.kind == "protocol" for e in knowledge.entries("protocol"))
    ids = [e.id for e in knowledge.entries()]
    assert ids == sorted(ids)


@pytest.mark.parametrize(
    ("words", "same"),
    [
        ("bedreiging bedreigingen bedreigen", True),
        ("raadslid raadsleden", True),
        ("ambtenaar ambtenaren", True),
        ("brief brieven briefje", True),
        ("huis huizen", True),
        ("reactie reacties", True),
        ("aangifte woning", False),
    ],
)
def test_stemming_joins_forms_of_a_word(words: str, same: bool) -> None:
    assert (len({stem(fold(w)) for w in words.split()}) == 1) is same


def test_folding_strips_accents_and_case() -> None:
    assert fold("Geïntimideerd ÉÉN") == "geintimideerd een"


def test_synonyms_add_the_word_they_stand_for() -> None:
    analyzer = Analyzer({"x": ["twitter"], "aangifte": ["melden bij de politie"]})
    assert "x" in analyzer.terms("bedreigd op Twitter")
    assert "aangift" in analyzer.terms("ik wil het melden bij de politie")
    assert "aangift" not in analyzer.terms("ik wil het melden bij de griffier")
    assert Analyzer.plain().terms("Melden bij de politie") == ["melden", "bij", "de", "politie"]


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("aangfite", "aangifte-doen"),  # swapped letters
        ("slachtoferhulp", "nazorg"),  # letter dropped
        ("gedoxxed", "doxing"),  # typo of a synonym
        ("antisemitische berichten", "discriminatie-online"),  # another form
    ],
)
def test_typos_and_other_forms_are_forgiven(knowledge: Knowledge, query: str, expect: str) -> None:
    assert knowledge.search(query)[0].entry.id == expect
