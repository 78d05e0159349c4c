"""Knowledge search: hit@1, hit@3 and latency, against plain BM25 measured in the same run."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from knowledge import Knowledge
from knowledge.analysis import Analyzer
from knowledge.base import ROOT
from knowledge.content import read_synonyms
from knowledge.quality import Question, measure, read_questions
from knowledge.ranking import Ranker

TESTS = Path(__file__).resolve().parent.parent / "tests" / "knowledge"
ROUNDS = 5


def _latency_ms(knowledge: Knowledge, questions: list[Question]) -> dict[str, float]:
    times = []
    for _ in range(ROUNDS):
        for question in questions:
            started = time.perf_counter()
            knowledge.search(question.text, kind=question.kind, role=question.role)
            times.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(times, n=100)
    return {"p50": round(statistics.median(times), 3), "p95": round(cuts[94], 3)}


def _report(knowledge: Knowledge, tuned: list[Question], held_out: list[Question]) -> dict:
    score, fresh = measure(knowledge, tuned), measure(knowledge, held_out)
    return {
        "hit@1": round(score.hit_at_1, 3),
        "hit@3": round(score.hit_at_3, 3),
        "held_out_hit@1": round(fresh.hit_at_1, 3),
        "held_out_hit@3": round(fresh.hit_at_3, 3),
        "latency_ms": _latency_ms(knowledge, tuned),
    }


def run() -> dict:
    """Measure the shipped search, plain BM25 and the search without each of its parts."""
    started = time.perf_counter()
    knowledge = Knowledge.load()
    load_ms = (time.perf_counter() - started) * 1000
    entries = knowledge.entries()
    synonyms = read_synonyms(ROOT)
    tuned = read_questions(TESTS / "queries.yml")
    held_out = read_questions(TESTS / "queries_holdout.yml")
    variants = {
        "baseline_plain_bm25": Ranker(entries, Analyzer.plain(), tolerant=False, pairs=False),
        "without_synonyms": Ranker(entries, Analyzer()),
        "without_typo_tolerance": Ranker(entries, Analyzer(synonyms), tolerant=False),
        "without_word_pairs": Ranker(entries, Analyzer(synonyms), pairs=False),
    }
    return {
        "entries": len(entries),
        "questions": len(tuned),
        "held_out_questions": len(held_out),
        "load_ms": round(load_ms, 1),
        "search": _report(knowledge, tuned, held_out),
        **{
            name: _report(Knowledge(entries, ranker), tuned, held_out)
            for name, ranker in variants.items()
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
