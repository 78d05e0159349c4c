"""The fake Slack's file uploads and Home views behave as slack-sdk expects of Slack."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import BOT_TOKEN, CHANNEL, FakeSlack
from tests.plugins.desk import ANNA


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=fake.url + "/")


async def test_upload_v2_into_a_thread_keeps_the_bytes(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    card = await client.chat_postMessage(channel=CHANNEL, text="kaart")
    content = b"%PDF-1.7\n" + bytes(range(256)) * 4

    await client.files_upload_v2(
        channel=CHANNEL,
        thread_ts=card["ts"],
        filename="dossier.pdf",
        title="Dossier",
        content=content,
        initial_comment="Het dossier",
    )

    [upload] = fake.uploads
    assert (upload.channel, upload.thread_ts, upload.filename) == (
        CHANNEL,
        card["ts"],
        "dossier.pdf",
    )
    assert (upload.title, upload.initial_comment, upload.content) == (
        "Dossier",
        "Het dossier",
        content,
    )


async def test_upload_to_an_unknown_thread_or_channel_is_refused(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError, match="thread_not_found"):
        await client.files_upload_v2(
            channel=CHANNEL, thread_ts="1.000001", filename="a.png", content=b"x"
        )
    with pytest.raises(SlackApiError, match="channel_not_found"):
        await client.files_upload_v2(channel="C0ELSEWHERE", filename="a.png", content=b"x")
    assert fake.uploads == []


async def test_direct_message_channel_and_home_view(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    opened = await client.conversations_open(users=ANNA)
    await client.files_upload_v2(channel=opened["channel"]["id"], filename="a.png", content=b"png")
    await client.views_publish(user_id=ANNA, view={"type": "home", "blocks": []})

    assert [u.channel for u in fake.uploads] == [opened["channel"]["id"]]
    assert fake.published == [{"user_id": ANNA, "view": {"type": "home", "blocks": []}}]
