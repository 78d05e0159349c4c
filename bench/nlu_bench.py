"""NLU pipelines side by side: train/load/parse time, peak RSS, held-out and 5-fold scores.

Each pipeline is measured in fresh subprocesses (train, cross-validate, serve), so the peak RSS
of one does not include the other, and the serving RSS does not include training.
Run alone with `python -m bench nlu`.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Every held-out set a pipeline is scored on; the parses of "heldout" are also timed.
HELDOUT_SETS = {
    "heldout": ROOT / "tests" / "nlu" / "heldout.yml",
    "heldout_phone": ROOT / "tests" / "nlu" / "heldout_phone.yml",
}
# $NLU_BENCH_FOLDS=0 skips the cross-validation (DIET trains for minutes per fold); the
# held-out sets are then scored at the bot's own fallback threshold.
FOLDS = int(os.environ.get("NLU_BENCH_FOLDS", "5"))
THRESHOLDS = [round(0.05 * i, 2) for i in range(15)]
# Keep a higher threshold (more "did you mean" buttons, fewer guesses) while it costs at most
# this much out-of-fold macro-F1.
THRESHOLD_TOLERANCE = 0.005

HEADER = "recipe: default.v1\nlanguage: nl\nassistant_id: weerbaar-nlu\npipeline:\n"
LIGHT = """  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
    analyzer: word
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: LogisticRegressionClassifier
    solver: {solver}
    max_iter: 1000
    ranking_length: 0
"""
REGEX_ENTITIES = """  - name: RegexEntityExtractor
    use_lookup_tables: true
    use_regexes: false
  - name: EntitySynonymMapper
"""
CRF_ENTITIES = """  - name: RegexEntityExtractor
    use_lookup_tables: true
    use_regexes: false
  - name: CRFEntityExtractor
  - name: EntitySynonymMapper
"""
# Rasa's default NLU pipeline, without ResponseSelector (no retrieval intents) and
# FallbackClassifier (the fallback rule is ours, applied to every pipeline alike).
DIET = """  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
    random_seed: 42
  - name: EntitySynonymMapper
"""
# "light" uses the liblinear solver (one-vs-rest); "light_lbfgs" is Rasa's default solver
# (multinomial). "light_crf" adds a CRF entity model next to the lookup tables.
PIPELINES = {
    "light": HEADER + LIGHT.format(solver="liblinear") + REGEX_ENTITIES,
    "light_lbfgs": HEADER + LIGHT.format(solver="lbfgs") + REGEX_ENTITIES,
    "light_crf": HEADER + LIGHT.format(solver="liblinear") + CRF_ENTITIES,
    "diet": HEADER + DIET,
}


def _load_average() -> float:
    """One-minute load average: other work on the machine inflates wall-clock numbers."""
    return round(os.getloadavg()[0], 2)


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


def _entity_scores(gold: list[frozenset], found: list[frozenset]) -> dict:
    """Micro precision/recall/F1 over (entity, value) pairs per message."""
    hits = sum(len(g & f) for g, f in zip(gold, found, strict=True))
    n_found, n_gold = sum(map(len, found)), sum(map(len, gold))
    precision = hits / n_found if n_found else 0.0
    recall = hits / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


async def _classify_all(nlu, texts: list[str]) -> list[dict]:
    """Raw classifier answers for `texts` (before safety net and fallback)."""
    from nlu.parsing import escape

    return [await nlu.classify(escape(text)) for text in texts]


def _decisions(texts: list[str], raws: list[dict], threshold: float) -> list:
    """What the bot would do with each text at `threshold`."""
    from nlu.evaluation import decision
    from nlu.parsing import to_parse

    return [decision(to_parse(text, raw, threshold)) for text, raw in zip(texts, raws, strict=True)]


def _child_train(config: Path, work: Path) -> dict:
    """Train on nlu/data; report import and training seconds."""
    from nlu.training import DATA_DIR, quiet_rasa, train_model

    start = time.perf_counter()
    quiet_rasa()
    import rasa.model_training  # noqa: F401

    imported, cpu = time.perf_counter(), time.process_time()
    train_model(config, DATA_DIR, work, "model")
    return {
        "import_s": round(imported - start, 2),
        "train_s": round(time.perf_counter() - imported, 2),
        "train_cpu_s": round(time.process_time() - cpu, 2),
        "train_peak_rss_mb": _peak_rss_mb(),
        "train_load_average": _load_average(),
    }


def _child_cv(config: Path, work: Path) -> dict:
    """Stratified 5-fold cross-validation on nlu/data; threshold chosen on out-of-fold answers."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    from nlu.evaluation import score
    from nlu.parsing import load_local
    from nlu.training import DATA_DIR, load_training_data, train_model

    work.mkdir(parents=True, exist_ok=True)
    data = load_training_data(DATA_DIR)
    examples = data.intent_examples
    intents = [m.get("intent") for m in examples]
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    texts: list[str] = []
    expected: list[str] = []
    raws: list[dict] = []
    for k, (train_idx, test_idx) in enumerate(folds.split(examples, intents)):
        fold_data = TrainingData(
            [examples[i] for i in train_idx],
            entity_synonyms=data.entity_synonyms,
            lookup_tables=data.lookup_tables,
        )
        fold_file = work / f"fold{k}.yml"
        RasaYAMLWriter().dump(fold_file, fold_data)
        model = train_model(config, fold_file, work, f"fold{k}")
        nlu = asyncio.run(load_local(model))
        fold_texts = [examples[i].get("text") for i in test_idx]
        raws += asyncio.run(_classify_all(nlu, fold_texts))
        asyncio.run(nlu.aclose())
        texts += fold_texts
        expected += [intents[i] for i in test_idx]
    curve = {t: score(expected, _decisions(texts, raws, t))["macro_f1"] for t in THRESHOLDS}
    best = max(curve.values())
    threshold = max(t for t, f1 in curve.items() if f1 >= best - THRESHOLD_TOLERANCE)
    classifier_only = [(raw.get("intent") or {}).get("name") for raw in raws]
    top = score(expected, [name or "out_of_scope" for name in classifier_only])
    bot = score(expected, _decisions(texts, raws, threshold))
    return {
        "folds": FOLDS,
        "classifier_accuracy": top["accuracy"],
        "classifier_macro_f1": top["macro_f1"],
        "accuracy": bot["accuracy"],
        "macro_f1": bot["macro_f1"],
        "threshold": threshold,
        "threshold_curve_macro_f1": curve,
    }


def _held_out_scores(examples: list, raws: list[dict], parses: list) -> dict:
    """The bot's decision and the classifier alone on one held-out set."""
    from nlu.evaluation import decision, score

    expected = [intent for _, intent, _ in examples]
    bot = score(expected, [decision(p) for p in parses])
    top = score(expected, [(raw.get("intent") or {}).get("name") or "?" for raw in raws])
    gold = [entities for _, _, entities in examples]
    found = [frozenset((e.entity, e.value) for e in p.entities) for p in parses]
    return {
        "examples": len(examples),
        "accuracy": bot["accuracy"],
        "macro_f1": bot["macro_f1"],
        "emergency_recall": bot["per_intent"].get("emergency", {}).get("recall", 0.0),
        "fallbacks": sum(p.fallback for p in parses),
        "safety_net_hits": sum(p.source == "safety_net" for p in parses),
        "classifier_accuracy": top["accuracy"],
        "classifier_macro_f1": top["macro_f1"],
        # Only a set with hand-annotated entities says anything about entity extraction.
        **({"entities": _entity_scores(gold, found)} if any(gold) else {}),
    }


def _child_serve(model: Path, threshold: float) -> dict:
    """Load the model, parse the held-out sets; report load, latency, RSS, scores."""
    from nlu.evaluation import load_examples
    from nlu.parsing import load_local, to_parse
    from nlu.training import quiet_rasa

    start = time.perf_counter()
    quiet_rasa()
    imported = time.perf_counter()
    sets = {name: load_examples(path) for name, path in HELDOUT_SETS.items()}
    texts = [text for text, _, _ in sets["heldout"]]

    async def serve() -> tuple[float, list[float], float, dict]:
        begin = time.perf_counter()
        nlu = await load_local(model, threshold)
        loaded = time.perf_counter() - begin
        for text in texts[:20]:
            await nlu.parse(text)
        latencies = []
        cpu = time.process_time()
        for text in texts * 3:
            tick = time.perf_counter()
            await nlu.parse(text)
            latencies.append((time.perf_counter() - tick) * 1000)
        cpu_ms = (time.process_time() - cpu) * 1000 / len(latencies)
        scores = {}
        for name, examples in sets.items():
            set_texts = [text for text, _, _ in examples]
            raws = await _classify_all(nlu, set_texts)
            parses = [to_parse(t, raw, threshold) for t, raw in zip(set_texts, raws, strict=True)]
            scores[name] = _held_out_scores(examples, raws, parses)
        await nlu.aclose()
        return loaded, latencies, cpu_ms, scores

    loaded, latencies, cpu_ms, scores = asyncio.run(serve())
    return {
        "import_s": round(imported - start, 2),
        "load_s": round(loaded, 3),
        "parse_p50_ms": _percentile(latencies, 0.5),
        "parse_p95_ms": _percentile(latencies, 0.95),
        "parse_mean_ms": round(statistics.fmean(latencies), 3),
        "parse_cpu_mean_ms": round(cpu_ms, 3),
        "serve_peak_rss_mb": _peak_rss_mb(),
        "serve_load_average": _load_average(),
        **scores,
    }


def _child(mode: str, *args: str) -> dict:
    """Run one measurement in a fresh Python process and return its JSON answer."""
    from nlu.training import nlu_python

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(  # in the Rasa environment
        [str(nlu_python()), str(Path(__file__).resolve()), mode, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"nlu_bench {mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(name: str, config_text: str) -> dict:
    """All measurements for one pipeline, with Rasa's training cache in a fresh folder."""
    from nlu import FALLBACK_THRESHOLD

    with tempfile.TemporaryDirectory(prefix=f"nlu-bench-{name}-") as tmp:
        work = Path(tmp)
        config = work / "config.yml"
        config.write_text(config_text)
        os.environ["RASA_CACHE_DIRECTORY"] = str(work / "cache")
        train = _child("train", str(config), str(work / "model"))
        cv = _child("cv", str(config), str(work / "cv")) if FOLDS else None
        threshold = cv["threshold"] if cv else FALLBACK_THRESHOLD
        serve = _child("serve", str(work / "model" / "model.tar.gz"), str(threshold))
    return {**train, **serve, "threshold": threshold, "cross_validation": cv}


def _chosen_config() -> str | None:
    """Which benchmarked pipeline root config.yml holds."""
    import yaml

    current = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    for name, text in PIPELINES.items():
        if yaml.safe_load(text)["pipeline"] == current:
            return name
    return None


def run() -> dict:
    """Measure every pipeline (or those named in $NLU_BENCH_PIPELINES); JSON-serialisable."""
    names = os.environ.get("NLU_BENCH_PIPELINES", ",".join(PIPELINES)).split(",")
    cache_before = os.environ.get("RASA_CACHE_DIRECTORY")
    started = time.perf_counter()
    try:
        results = {name: _measure(name, PIPELINES[name]) for name in names}
    finally:
        if cache_before is None:
            os.environ.pop("RASA_CACHE_DIRECTORY", None)
        else:
            os.environ["RASA_CACHE_DIRECTORY"] = cache_before
    return {
        "pipelines": results,
        "bench_s": round(time.perf_counter() - started, 1),
        "cpus": os.cpu_count(),
        "baseline": "diet",
        "config_yml": _chosen_config(),
        "targets": {
            "heldout_accuracy": 0.95,
            "heldout_macro_f1": 0.95,
            "emergency_recall": 1.0,
            "train_s": 10,
            "load_s": 1,
            "parse_p95_ms": 5,
            "serve_peak_rss_mb": 800,
        },
    }


def _main(argv: list[str]) -> None:
    if not argv:
        print(json.dumps(run(), indent=2))
        return
    import warnings

    warnings.simplefilter("ignore")
    mode, *args = argv
    if mode == "train":
        result = _child_train(Path(args[0]), Path(args[1]))
    elif mode == "cv":
        result = _child_cv(Path(args[0]), Path(args[1]))
    else:
        result = _child_serve(Path(args[0]), float(args[1]))
    print(json.dumps(result))


if __name__ == "__main__":
    _main(sys.argv[1:])
