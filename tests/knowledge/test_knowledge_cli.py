"""The command line: JSON search results and a content check with a useful exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.__main__ import main
from tests.knowledge.entries import ENTRY, write_entry

REPO = Path(__file__).resolve().parents[2]


def test_search_json_from_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "knowledge", "search", "mijn adres is online gezet", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["query"] == "mijn adres is online gezet"
    assert result["results"][0]["id"] == "doxing"
    for item in result["results"]:
        assert set(item) == {"id", "score", "title"}
        assert isinstance(item["score"], float) and isinstance(item["title"], str)
    scores = [item["score"] for item in result["results"]]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 3


def test_search_json_with_filters(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "search",
        "training",
        "--json",
        "--kind",
        "training",
        "--role",
        "ambtenaar",
        "--limit",
        "10",
    ]
    assert main(argv) == 0
    ids = [item["id"] for item in json.loads(capsys.readouterr().out)["results"]]
    assert ids and "training-intimidatie-bedreiging" not in ids
    assert "arbocatalogus-agressie" in ids


def test_search_json_with_topic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "adres", "--json", "--topic", "doxing"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["id"] == "doxing"


def test_search_keeps_dutch_letters_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "geïntimideerd", "--json"]) == 0
    assert "geïntimideerd" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [["search", "x", "--topic", "paniek"], ["search", "x", "--role", "koning"], ["zoek", "x"]],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2


def test_check_passes_on_the_shipped_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_check_fails_on_bad_content(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_entry(content, text=ENTRY.format(id="test-protocol").replace("0900-8844", "0612345678"))
    assert main(["--root", str(content), "check"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines
    assert all(line.startswith("knowledge/protocols/test-protocol.md: ") for line in lines)


def test_show_prints_the_chat_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "nazorg"]) == 0
    assert "0900-0101" in capsys.readouterr().out
    assert main(["show", "bestaat-niet"]) == 1
