"""Story-first reading over the stories set: enough stories, and the fields read right."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from bot.base.clock import AMSTERDAM
from flows import catalog
from flows.story import read

STORIES = yaml.safe_load((Path(__file__).with_name("stories.yml")).read_text(encoding="utf-8"))[
    "stories"
]
NOW = datetime(2026, 11, 29, 14, 0, tzinfo=timezone.utc).astimezone(AMSTERDAM)


def _slots() -> dict:
    flows = catalog().flows
    return {**flows["report_incident"].slots, "role": flows["find_training"].slots["role"]}


def _read(text: str) -> dict:
    values = read(text, NOW, _slots()).values
    moment = (values.get("occurred") or {}).get("moment")
    return {
        "type": values.get("incident_type"),
        "when": datetime.fromisoformat(moment).astimezone(AMSTERDAM).date() if moment else None,
        "place": values.get("location"),
        "target": values.get("targeted"),
        "role": values.get("role"),
    }


def _right(field: str, expected, found) -> bool:
    if field == "place":
        return found is None if expected is None else str(expected).lower() in (found or "").lower()
    if field == "type" and expected == "anders":
        return found in (None, "anders")
    return found == expected


def test_the_set_has_forty_stories_with_every_field() -> None:
    assert len(STORIES) >= 40
    fields = {"text", "type", "when", "place", "target", "role"}
    assert all(set(story) == fields for story in STORIES)
    types = {c.value for c in catalog().flows["report_incident"].slots["incident_type"].choices}
    assert {story["type"] for story in STORIES} == types  # every category, and "anders"


@pytest.mark.parametrize("field", ["type", "when", "place", "target", "role"])
def test_each_field_is_read_right_in_most_stories(field: str) -> None:
    right = sum(_right(field, story[field], _read(story["text"])[field]) for story in STORIES)
    assert right / len(STORIES) >= 0.9, field


@pytest.mark.parametrize(
    ("story", "expected"),
    [
        ("Ik kreeg een dreigmail", {"type": "bedreiging"}),
        ("Ik werd bekogeld met eieren en uitgescholden", {"type": "fysiek_geweld"}),
        ("Ze hebben me uitgescholden op het plein", {"type": "verbale_agressie"}),
        ("bij mijn huis in Zwolle", {"place": "bij mijn huis in Zwolle", "target": "ikzelf"}),
        ("Het gebeurde in Alphen aan den Rijn", {"place": "in Alphen aan den Rijn"}),
        ("Op Facebook schreef iemand over mij", {"place": None, "type": "online"}),
        ("Mijn dochter werd gevolgd", {"target": "gezin", "type": "stalking"}),
        ("Als gedeputeerde word ik bedreigd", {"role": "statenlid"}),
        ("De burgemeester werd bedreigd", {"role": None}),
        ("Er gebeurde iets", {"type": None, "place": None, "target": None, "when": None}),
    ],
)
def test_small_stories(story: str, expected: dict) -> None:
    found = _read(story)
    for field, value in expected.items():
        assert found[field] == value, (field, found)
