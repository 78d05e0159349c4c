"""Training the NLU model, cached by a hash of the training data, config.yml and Rasa version."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import io
import json
import logging
import os
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlu import NLUUnavailable

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "nlu" / "data"
CONFIG = ROOT / "config.yml"
MODEL_DIR_ENV = "NLU_MODEL_DIR"
NLU_LOCK = ROOT / "requirements-nlu.lock"

QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}
# Warnings Rasa gives on every run that say nothing about our data: pykwalify (Rasa's YAML
# schema check) loads its extensions with the deprecated load_module(), and Rasa asks for a
# trainable entity model although RegexEntityExtractor with lookup tables is used by design.
EXPECTED_RASA_WARNINGS = (
    (r"the load_module\(\) method is deprecated", DeprecationWarning),
    (r"You have defined training data consisting of entity examples", UserWarning),
    (r"You have defined training data consisting of lookup tables", UserWarning),
)


def models_dir(model_dir: Path | None = None) -> Path:
    """Folder that holds trained models: argument, else $NLU_MODEL_DIR, else models/."""
    if model_dir is not None:
        return Path(model_dir)
    return Path(os.environ.get(MODEL_DIR_ENV) or ROOT / "models")


@functools.cache
def rasa_version() -> str:
    """The Rasa release the NLU environment is locked to (read from its lock file, so the bot's
    environment, which has no Rasa, names the same model)."""
    for line in NLU_LOCK.read_text(encoding="utf-8").splitlines():
        if line.lower().startswith("rasa=="):
            return line.split("==", 1)[1].strip()
    raise RuntimeError(f"{NLU_LOCK.name} pins no rasa release")


def model_hash(config: Path = CONFIG, data_dir: Path = DATA_DIR) -> str:
    """Hash of everything a trained model depends on."""
    digest = hashlib.sha256()
    digest.update(f"rasa {rasa_version()}\n".encode())
    digest.update(config.read_bytes())
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        digest.update(f"\n{path.relative_to(data_dir).as_posix()}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_file(model_dir: Path | None = None) -> Path:
    """Where the model for the current data and config lives (it may not exist yet)."""
    return models_dir(model_dir) / f"nlu-{model_hash()[:16]}.tar.gz"


PYTHON_ENV = "NLU_PYTHON"  # where the Rasa environment's Python is, if not in .venv-nlu


def nlu_python() -> Path:
    """The Rasa environment's Python: $NLU_PYTHON, else .venv-nlu/bin/python."""
    path = Path(os.environ.get(PYTHON_ENV) or ROOT / ".venv-nlu" / "bin" / "python")
    if not path.exists():
        raise NLUUnavailable(
            f"De NLU-omgeving ontbreekt ({path}); draai `make run` of `make test`. / "
            "The NLU environment is missing; run `make run` or `make test`."
        )
    return path


@functools.cache
def quiet_rasa() -> None:
    """Import Rasa's heavy dependencies in the order and with the settings that keep them quiet.

    Runs once per process; later calls return at once.
    """
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    with warnings.catch_warnings():
        # Import-time deprecation notices from TensorFlow, pkg_resources and SQLAlchemy 1.4.
        warnings.simplefilter("ignore")
        import sanic.app  # noqa: F401  (first: it puts its own warning filter in front)

        warnings.simplefilter("ignore")
        import skops.io  # noqa: F401  (before Rasa: loading it after TensorFlow takes ~9 s)
        import structlog

        # isort: split
        import rasa.core.agent  # noqa: F401
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    for name in ("rasa", "tensorflow", "absl", "sanic", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def expected_rasa_warnings() -> Iterator[None]:
    """Silence only the warnings listed in EXPECTED_RASA_WARNINGS."""
    with warnings.catch_warnings():
        for message, category in EXPECTED_RASA_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


def load_training_data(path: Path) -> Any:
    """Rasa TrainingData from a Rasa-format NLU file or folder."""
    quiet_rasa()
    from rasa.shared.nlu.training_data.loading import load_data

    with expected_rasa_warnings():
        return load_data(str(path))


@dataclass(frozen=True)
class NLUData:
    """Rasa's reading of NLU files, as plain data (so the bot's environment can use it too)."""

    intent_examples: list[dict[str, Any]]
    lookup_tables: list[dict[str, Any]]
    entity_synonyms: dict[str, str]
    # Rasa's validator: no example appears under two intents.
    no_example_in_two_intents: bool


def _read(path: Path) -> NLUData:
    """Rasa reads the file or folder at `path` in this process."""
    quiet_rasa()
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.structures import StoryGraph
    from rasa.validator import Validator

    data = load_training_data(path)
    keys = ("text", "intent", "entities")
    examples = [{k: m.get(k) for k in keys if m.get(k) is not None} for m in data.intent_examples]
    with expected_rasa_warnings(), contextlib.redirect_stdout(io.StringIO()):
        validator = Validator(Domain.empty(), data, StoryGraph([]), None)
        unique = validator.verify_example_repetition_in_intents(ignore_warnings=False)
    return NLUData(
        json.loads(json.dumps(examples, default=str)),
        [dict(table) for table in data.lookup_tables],
        dict(data.entity_synonyms),
        bool(unique),
    )


_read_before: dict[tuple[Path, int], NLUData] = {}


def read_nlu_data(*paths: Path) -> list[NLUData]:
    """Rasa's reading of each Rasa-format NLU file or folder: in this process where Rasa is
    installed, else in the NLU environment (one process for all paths not read before)."""
    if importlib.util.find_spec("rasa") is not None:
        return [_read(path) for path in paths]
    keys = [(Path(path).resolve(), _changed(Path(path))) for path in paths]
    missing = list(dict.fromkeys(key for key in keys if key not in _read_before))
    if missing:
        done = subprocess.run(
            [str(nlu_python()), "-m", "nlu", "data", *(str(path) for path, _ in missing)],
            capture_output=True,
            cwd=ROOT,
            env={**os.environ, **QUIET_ENV},
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"Rasa cannot read {paths}: {done.stderr.decode(errors='replace')}")
        for key, item in zip(missing, json.loads(done.stdout), strict=True):
            _read_before[key] = NLUData(**item)
    return [_read_before[key] for key in keys]


def _changed(path: Path) -> int:
    """The newest modification time under `path` (a changed file is read again)."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return max((p.stat().st_mtime_ns for p in files), default=0)


def train_model(config: Path, data: Path, out_dir: Path, name: str) -> Path:
    """Train a Rasa NLU model from `data` with `config`; return the archive path."""
    quiet_rasa()
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RASA_CACHE_DIRECTORY", str(out_dir / ".rasa-cache"))
    with expected_rasa_warnings(), contextlib.redirect_stdout(io.StringIO()):
        # Train under a temporary name so a crash never leaves a half-written model behind.
        tmp_name = f".{name}.{os.getpid()}"
        from rasa.model_training import train_nlu

        trained = train_nlu(
            config=str(config), nlu_data=str(data), output=str(out_dir), fixed_model_name=tmp_name
        )
    if not trained:
        raise RuntimeError(f"Rasa could not train a model from {data} with {config}")
    final = out_dir / f"{name}.tar.gz"
    os.replace(trained, final)
    return final


def ensure_model(model_dir: Path | None = None, *, force: bool = False) -> tuple[Path, bool]:
    """Return the model for the current data and config, training it only when missing."""
    target = model_file(model_dir)
    if target.exists() and not force:
        return target, False
    if importlib.util.find_spec("rasa") is None:  # the bot's environment: train in the NLU one
        command = [str(nlu_python()), "-m", "nlu", "train", *(["--force"] if force else [])]
        env = {**os.environ, MODEL_DIR_ENV: str(target.parent)}
        done = subprocess.run(command, capture_output=True, cwd=ROOT, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"training failed: {done.stderr.decode(errors='replace')[-2000:]}")
        return target, True
    name = target.name.removesuffix(".tar.gz")
    trained = train_model(CONFIG, DATA_DIR, target.parent, name)
    for old in target.parent.glob("nlu-*.tar.gz"):
        if old != trained:
            old.unlink(missing_ok=True)  # models for earlier data or config
    return trained, True
