"""Training the NLU model, cached by a hash of the training data, config.yml and Rasa version."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "nlu" / "data"
CONFIG = ROOT / "config.yml"
MODEL_DIR_ENV = "NLU_MODEL_DIR"

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


def model_hash(config: Path = CONFIG, data_dir: Path = DATA_DIR) -> str:
    """Hash of everything a trained model depends on."""
    digest = hashlib.sha256()
    digest.update(f"rasa {version('rasa')}\n".encode())
    digest.update(config.read_bytes())
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        digest.update(f"\n{path.relative_to(data_dir).as_posix()}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_file(model_dir: Path | None = None) -> Path:
    """Where the model for the current data and config lives (it may not exist yet)."""
    return models_dir(model_dir) / f"nlu-{model_hash()[:16]}.tar.gz"


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
    name = target.name.removesuffix(".tar.gz")
    trained = train_model(CONFIG, DATA_DIR, target.parent, name)
    for old in target.parent.glob("nlu-*.tar.gz"):
        if old != trained:
            old.unlink(missing_ok=True)  # models for earlier data or config
    return trained, True
