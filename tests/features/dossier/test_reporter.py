"""The reporter asks the dialogue core for the dossier: own cases only, split when too large."""

from __future__ import annotations

import io
import zipfile

import pytest

from bot.app import FEATURES
from bot.base.clock import FixedClock
from bot.base.messages import Incoming, Reply
from bot.base.settings import Settings
from bot.core.dialogue import Dialogue
from bot.features import dossier
from bot.store import Store
from knowledge import Knowledge
from tests.fakes.keyword_nlu import KeywordNLU
from tests.features.dossier.seed import seeded_case

USER = "local:anna"


@pytest.fixture
def dialogue(store: Store, clock: FixedClock) -> Dialogue:
    return Dialogue(store, KeywordNLU(), Settings(), Knowledge.load(), clock, features=FEATURES)


async def _press(dialogue: Dialogue, user: str, payload: str) -> list[Reply]:
    return await dialogue.handle(Incoming(user=user, button=payload))


async def _offered(dialogue: Dialogue, user: str, ref: str) -> None:
    """/mijnmeldingen, then the case: its detail offers the dossier button."""
    await dialogue.handle(Incoming(user=user, text="/mijnmeldingen"))
    replies = await _press(dialogue, user, f"case:{ref}")
    assert f"dossier:{ref}" in [b.payload for r in replies for b in r.buttons]


async def test_a_package_over_the_limit_comes_in_parts_and_the_reporter_is_told(
    dialogue: Dialogue, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = await seeded_case(store, USER, photos=4, documents=())
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        assert case is not None
        pdf_size = len(dossier.pdf(case, store.clock.now()))
        photo = max(e.size for e in case.evidence)
    monkeypatch.setattr(
        dossier, "TELEGRAM_LIMIT", pdf_size + 2 * photo + 8 * dossier.ZIP_ENTRY_OVERHEAD
    )
    await _offered(dialogue, USER, ref)

    replies = await _press(dialogue, USER, f"dossier:{ref}")

    sent = [r for r in replies if r.file]
    assert [r.text for r in sent] == [
        f"Dossier {ref}",
        f"Bewijspakket {ref}, deel 1 van 2",
        f"Bewijspakket {ref}, deel 2 van 2",
    ]
    for reply in sent[1:]:
        assert reply.file is not None and len(reply.file.data) <= dossier.TELEGRAM_LIMIT
        with zipfile.ZipFile(io.BytesIO(reply.file.data)) as archive:
            assert len([n for n in archive.namelist() if n.startswith("bewijs/")]) == 2
    told = "\n".join(r.text for r in replies if not r.file)
    assert "Je krijgt het daarom in 2 delen" in told
    assert "0900-8844" in told and "112" in told


async def test_an_erased_case_and_someone_elses_case_give_no_dossier(
    dialogue: Dialogue, store: Store
) -> None:
    mine = await seeded_case(store, USER, photos=1)
    theirs = await seeded_case(store, "local:bert", photos=1)
    await _offered(dialogue, USER, mine)
    async with store.session() as session:
        case = await store.case_by_ref(session, mine)
        assert case is not None
        case.purged_at = store.clock.now()  # erased after the button was offered

    replies = await _press(dialogue, USER, f"dossier:{mine}")
    assert [r.file for r in replies] == [None]
    assert "inhoud is gewist" in replies[0].text

    # A button for someone else's case, as if it had been offered: refused all the same.
    async with store.turn(USER) as turn:
        state = dict(turn.conversation.state)
        state["offered"] = [{"label": "Dossier voor aangifte", "payload": f"dossier:{theirs}"}]
        await store.touch(turn.session, turn.conversation, state)
    replies = await _press(dialogue, USER, f"dossier:{theirs}")
    assert [r.text for r in replies] == [
        "Deze knop is verlopen. Kies een van de knoppen bij het laatste bericht."
    ]
