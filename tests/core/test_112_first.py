"""The second line of defence: a reply to an incident that may be going on starts with 112."""

from __future__ import annotations

import pytest

from tests.plugins.chat import Chat

# The safety net does not fire on these (a past tense without a date, a question), and the
# classifier takes them for something else: the 112 line comes first all the same.
NOT_CLEARLY_PAST = [
    "hij dreigde me met zijn mes",
    "wat moet ik doen als iemand met een mes voor de deur staat",
    "vanochtend heeft iemand mijn ruiten ingegooid",
    "er was brand bij mijn voordeur",
]


@pytest.mark.slow
@pytest.mark.parametrize("text", NOT_CLEARLY_PAST)
async def test_an_incident_now_today_or_at_an_unknown_time_gets_112_first(chat: Chat, text):
    replies = await chat.send(text)
    first = replies[0].text.splitlines()
    assert "112" in first[0], text
    assert len(first) > 1 or len(replies) > 1  # and then the answer the message gets anyway


@pytest.mark.slow
async def test_the_112_line_comes_first_in_the_middle_of_a_report_too(chat: Chat) -> None:
    await chat.send("/melden")
    replies = await chat.send("hij dreigde me met zijn mes")
    assert "112" in replies[0].text.splitlines()[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "vorige week kreeg ik een dreigbrief thuis",
        "gisteravond heeft iemand mijn ruiten ingegooid",
        "ik wil iets melden",
        "hoe doe ik aangifte",
    ],
)
async def test_a_calm_story_of_before_today_or_a_question_gets_no_112_line(chat: Chat, text):
    replies = await chat.send(text)
    assert "112" not in replies[0].text.splitlines()[0], text
