"""Training cache: the model hash, the no-op when up to date, pruning of stale models."""

from __future__ import annotations

import shutil
from pathlib import Path

import nlu.training as training
from nlu.training import CONFIG, DATA_DIR, ensure_model, model_file, model_hash


def _copy_project(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "config.yml"
    shutil.copy(CONFIG, config)
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    return config, data


def test_hash_follows_data_and_config(tmp_path):
    config, data = _copy_project(tmp_path)
    original = model_hash(config, data)
    assert model_hash(config, data) == original
    with (data / "intents.yml").open("a") as file:
        file.write("    - nog een voorbeeld\n")
    changed_data = model_hash(config, data)
    config.write_text(config.read_text().replace("max_iter: 1000", "max_iter: 999"))
    assert len({original, changed_data, model_hash(config, data)}) == 3


def test_up_to_date_model_is_not_trained_again(tmp_path, monkeypatch):
    def fail(*args: object) -> Path:
        raise AssertionError("trained although the model exists")

    monkeypatch.setattr(training, "train_model", fail)
    model_file(tmp_path).write_bytes(b"model")
    assert ensure_model(tmp_path) == (model_file(tmp_path), False)


def test_training_removes_models_of_earlier_data(tmp_path, monkeypatch):
    def fake_train(config: Path, data: Path, out_dir: Path, name: str) -> Path:
        path = out_dir / f"{name}.tar.gz"
        path.write_bytes(b"model")
        return path

    monkeypatch.setattr(training, "train_model", fake_train)
    stale = tmp_path / "nlu-0123456789abcdef.tar.gz"
    stale.write_bytes(b"old")
    other = tmp_path / "notes.txt"
    other.write_text("keep")
    path, trained = ensure_model(tmp_path)
    assert trained and path == model_file(tmp_path) and path.exists()
    assert not stale.exists()
    assert other.exists()
