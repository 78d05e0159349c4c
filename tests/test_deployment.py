"""Deployment files: what the build context leaves out, and how the three services start."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _matches(pattern: str, path: str) -> bool:
    """Docker's rule: a pattern matches a path or one of its parent folders."""
    pattern = pattern.rstrip("/")
    parts = path.split("/")
    for end in range(1, len(parts) + 1):
        prefix = "/".join(parts[:end])
        if fnmatch.fnmatchcase(prefix, pattern) or (
            pattern.startswith("**/") and fnmatch.fnmatchcase(parts[end - 1], pattern[3:])
        ):
            return True
    return False


def ignored(path: str) -> bool:
    """Whether the build context leaves `path` out (the last matching pattern decides)."""
    verdict = False
    for pattern in _patterns():
        if pattern.startswith("!"):
            if _matches(pattern[1:], path):
                verdict = False
        elif _matches(pattern, path):
            verdict = True
    return verdict


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.local",
        ".env.production",
        ".venv/bin/python",
        ".venv-nlu/bin/python",
        "var/weerbaar.db",
        "server.key",
        "tls/cert.pem",
        "secrets/slack.txt",
        "models/nlu-0123.tar.gz",
        ".git/config",
    ],
)
def test_secrets_and_local_state_stay_out_of_the_image(path: str) -> None:
    assert ignored(path)


@pytest.mark.parametrize(
    "path",
    [
        ".env.example",
        "bot/app.py",
        "nlu/server.py",
        "nlu/data/intents.yml",
        "config.yml",
        "requirements.lock",
        "requirements-nlu.lock",
        "flows/common.yml",
    ],
)
def test_the_code_goes_in(path: str) -> None:
    assert not ignored(path)


def test_compose_runs_nlu_bot_and_postgres_and_the_bot_waits_for_both() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert set(services) == {"db", "nlu", "bot"}
    assert all("healthcheck" in services[name] for name in ("db", "nlu"))
    assert services["bot"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "nlu": {"condition": "service_healthy"},
    }
    assert services["bot"]["environment"]["NLU_URL"] == "http://nlu:5005"
    assert "ports" not in services["nlu"]  # only the bot reaches it
    assert services["nlu"]["build"]["dockerfile"] == "nlu/Dockerfile"


@pytest.mark.parametrize(
    ("dockerfile", "python"), [("Dockerfile", "3.13"), ("nlu/Dockerfile", "3.10")]
)
def test_each_image_has_its_python_and_runs_as_a_user(dockerfile: str, python: str) -> None:
    text = (ROOT / dockerfile).read_text()
    assert re.search(rf"^FROM python:{re.escape(python)}-slim$", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in text
    assert ("python -m nlu train" in text) == (python == "3.10")
