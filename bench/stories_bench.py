"""Story-first extraction: field accuracy on tests/features/reporting/stories.yml and questions asked per report.

Each story is told after /melden through the dialogue core (real NLU, flows, clock fixed at the
tests' Sunday); what the flow has filled right after the story is compared with what a reader
takes from it, and every question up to the summary is answered and counted. The same harness
first runs on the code as it was before story-first extraction (`BASELINE`, exported from git),
so both figures come from one run.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

import yaml

from bot.app import FEATURES

ROOT = Path(__file__).resolve().parent.parent
STORIES = Path("tests") / "features" / "reporting" / "stories.yml"
BASELINE = "a3d372a"  # the last commit before story-first extraction
FIELDS = ("type", "when", "place", "target", "role")
NOW = datetime(2026, 11, 29, 14, 0, tzinfo=timezone.utc)
MAX_QUESTIONS = 20
# What the harness answers where a button does not say it: a place, a time.
TYPED = {"location": "thuis", "occurred": "gisteren"}
# The answers a reporter gives to questions whose value the stories do not hold.
PREFERRED = {
    "evidence": "klaar",
    "aangifte": "gedaan",
    "wants_support": "nee",
    "checkins": "nee",
    "story_more": "skip",
}
SLOT_OF = {"type": "incident_type", "target": "targeted", "role": "role"}


def _read(root: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load((root / STORIES).read_text(encoding="utf-8"))
    return list(data["stories"])


def _date(value: Any) -> str | None:
    from bot.base.clock import AMSTERDAM

    if isinstance(value, dict) and value.get("moment"):
        moment = datetime.fromisoformat(value["moment"])
        return moment.astimezone(AMSTERDAM).date().isoformat()
    return None


def _right(field: str, expected: Any, slots: dict[str, Any]) -> bool:
    if field == "when":
        return _date(slots.get("occurred")) == (str(expected) if expected else None)
    if field == "place":
        place = slots.get("location")
        if expected is None:
            return not place
        return isinstance(place, str) and str(expected).lower() in place.lower()
    found = slots.get(SLOT_OF[field])
    if field == "type" and expected == "anders":
        return found in (None, "anders")  # nothing fits: the team decides
    return found == expected


async def _measure(root: Path) -> dict[str, Any]:
    from bot.base.clock import FixedClock
    from bot.base.messages import Incoming
    from bot.base.settings import Settings
    from bot.core.dialogue import Dialogue
    from bot.store import Conversation, open_store
    from flows.engine import DialogueState
    from knowledge import Knowledge
    from nlu.service import load_nlu

    stories = _read(root)
    nlu = await load_nlu()
    knowledge = Knowledge.load()
    right = dict.fromkeys(FIELDS, 0)
    questions: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(f"sqlite+aiosqlite:///{Path(folder) / 'stories.db'}")
        dialogue = Dialogue(store, nlu, Settings(), knowledge, FixedClock(NOW), features=FEATURES)

        async def state(user: str) -> DialogueState:
            async with store.session() as session:
                reporter = await store.reporter(session, user)
                row = await session.get(Conversation, reporter.id)
                return DialogueState.from_json(row.state if row else {})

        for number, story in enumerate(stories):
            user = f"local:story{number}"
            await dialogue.handle(Incoming(user=user, text="/melden"))
            await dialogue.handle(Incoming(user=user, text=story["text"]))
            current = await state(user)
            slots = current.stack[-1].slots if current.stack else {}
            for field in FIELDS:
                right[field] += _right(field, story[field], slots)
            asked = 0
            while current.stack and current.stack[-1].step != "summary" and asked < MAX_QUESTIONS:
                frame = current.stack[-1]
                slot = dialogue.catalog.flows[frame.flow].step(frame.step).collect or ""
                asked += 1
                offered = [b["payload"] for b in current.offered if b["payload"] != "stop"]
                expected = {"incident_type": story["type"], "targeted": story["target"]}
                wanted = expected.get(slot) or PREFERRED.get(slot)
                if wanted in offered:
                    message = Incoming(user=user, button=wanted)
                elif slot in TYPED:
                    message = Incoming(user=user, text=TYPED[slot])
                elif offered:
                    message = Incoming(user=user, button=offered[0])
                else:
                    message = Incoming(user=user, text="weet ik niet")
                await dialogue.handle(message)
                current = await state(user)
            questions.append(asked)
        await store.close()
    total = len(stories)
    return {
        "stories": total,
        "field_accuracy": round(sum(right.values()) / (total * len(FIELDS)), 3),
        "per_field": {field: round(right[field] / total, 3) for field in FIELDS},
        "questions_per_report": round(sum(questions) / total, 2),
    }


def _baseline() -> dict[str, Any]:
    """The same harness on the code at BASELINE, in its own process and checkout."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"error": f"commit {BASELINE} not available (no git history here)"}
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder)
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tree)
        (tree / STORIES).parent.mkdir(parents=True, exist_ok=True)
        (tree / STORIES).write_text((ROOT / STORIES).read_text(encoding="utf-8"), "utf-8")
        (tree / "bench" / "stories_bench.py").write_text(
            Path(__file__).read_text(encoding="utf-8"), "utf-8"
        )
        (tree / "models").symlink_to(ROOT / "models")
        done = subprocess.run(
            [sys.executable, "-m", "bench.stories_bench"],
            cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree)},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            return {"error": f"baseline run failed ({done.returncode})"}
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run() -> dict[str, Any]:
    return {"today": _baseline(), "new": asyncio.run(_measure(ROOT))}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_measure(Path.cwd()))))
