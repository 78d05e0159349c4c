"""Deliver "support" outbox payloads to Slack: cards posted once and then updated, thread posts.

A post that may have reached Slack without an answer (timeout, 5xx) is looked up by its key in
the message metadata before it is sent again, so a Slack outage delays and never duplicates.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from hashlib import sha256
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy import select

from bot.base.settings import Settings
from bot.channels.slack import cards
from bot.features import aftercare, relay
from bot.features.support import escalation, promises
from bot.jobs.scheduler import Scheduler
from bot.store import Case, Evidence, Store
from bot.store.outbox import DeliveryFailed
from flows import text

log = logging.getLogger("weerbaar.slack")

METADATA_TYPE = "weerbaar_post"
MAX_BACKOFF = 30.0  # seconds; an escalation must not wait long once Slack is back
LOOKUP_PAGES = 5


class SlackUnreachable(DeliveryFailed):
    """No answer, or a 5xx / 429: Slack may or may not have done it."""


class SlackRefused(DeliveryFailed):
    """Slack answered with an error code (ok: false)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"slack error {code}")
        self.code = code


class Delivery:
    """Sends what the outbox holds for the support team; one instance per desk."""

    def __init__(
        self, client: AsyncWebClient, store: Store, settings: Settings, scheduler: Scheduler
    ) -> None:
        assert settings.slack_support_channel
        self.client = client
        self.store = store
        self.settings = settings
        self.scheduler = scheduler
        self.channel = settings.slack_support_channel
        self._failures = 0
        self._down_until: datetime | None = None

    async def send(self, payload: dict[str, Any], retry: bool = False) -> None:
        """Deliver one payload; raises DeliveryFailed to have the outbox try again later.

        On a retry every post is first looked up by its key: an earlier attempt may have reached
        Slack unanswered, or a worker may have died between posting and recording it.
        """
        kind = payload.get("kind", "escalation")
        if kind == "digest":
            await self._digest(payload, retry)
            return
        if kind == "dead_letter":  # an operator's matter, about no case
            said, key = str(payload.get("text", "")), str(payload.get("key") or "dead_letter")
            await self._post(self.channel, key, said, oldest=self._day_ago(), retry=retry)
            return
        ref = payload.get("case")
        if not isinstance(ref, str):
            log.warning("support payload without a case dropped (kind %s)", kind)
            return
        if kind in ("escalation", "card"):
            await self._card(ref, place=kind == "escalation", retry=retry)
        elif kind == "relay":
            words = cards.escape(str(payload.get("text", "")))
            said = (
                words if payload.get("file") else text(relay.FLOW, "team_from_reporter", text=words)
            )
            if payload.get("emergency"):
                said = f"{text(relay.FLOW, 'team_danger')}\n{said}"
            case = await self._in_thread(ref, payload, said, retry=retry)
            if payload.get("emergency") and case is not None and case.status == "open":
                # Now urgent: announced again sooner if nobody picks up.
                await escalation.watch(self.scheduler, ref, "urgent")
        elif kind == "note":
            note = cards.escape(str(payload.get("text", "")))
            await self._in_thread(ref, payload, note, retry=retry)
            await self._card(ref, place=False)
        elif kind == "evidence":
            await self._evidence(ref, payload)
            await self._card(ref, place=False)
        elif kind == "reescalation":
            await self._reescalation(ref, payload, retry)
        elif kind == "checkin":
            await self._checkin_answer(ref, payload, retry)
        elif kind == "reminder":
            await self._reminder(ref, payload, retry)
        else:
            log.warning("support payload of unknown kind %r dropped", kind)

    # --- what each payload does ----------------------------------------------------------

    async def _card(self, ref: str, *, place: bool, retry: bool = False) -> None:
        """Post the case's card the first time, update it in place after that."""
        async with self.store.session() as session:
            case = await self.store.case_by_ref(session, ref)
            if case is None:
                log.warning("card for an unknown case dropped")
                return
            card = cards.card(case)
            channel, ts = case.slack_channel, case.slack_ts
            status, urgency = case.status, case.urgency
            if ts is None:
                if not place:
                    return  # no card yet; the escalation will show the latest state
                if channel is None:
                    case.slack_channel = channel = self.channel  # marks that posting began
                else:
                    retry = True  # an earlier attempt may have arrived
            oldest = case.created_at.timestamp() - 60
        if ts is not None:
            try:
                await self._call(
                    self.client.chat_update,
                    channel=channel,
                    ts=ts,
                    text=card.text,
                    blocks=card.blocks,
                )
            except SlackRefused as refused:
                if refused.code != "message_not_found":
                    raise
                await self._forget_card(ref)  # someone deleted the card: place a new one
                await self._card(ref, place=True, retry=retry)
                return
            if place and status == "open":  # an earlier attempt may have stopped short of this
                await escalation.ensure_watched(self.scheduler, ref, urgency)
            return
        ts = await self._post(
            channel, _card_key(ref), card.text, card.blocks, oldest=oldest, retry=retry
        )
        async with self.store.session() as session:
            case = await self.store.case_by_ref(session, ref)
            assert case is not None
            case.slack_ts = ts
            await self.store.add_event(session, case, "card_posted", "systeem")
            await promises.card_posted(self.store, session, case, self.settings)
            status, urgency, latest = case.status, case.urgency, cards.card(case)
        if status == "open":
            await escalation.ensure_watched(self.scheduler, ref, urgency)
        if latest != card:  # the case changed while the card was on its way
            await self._call(
                self.client.chat_update,
                channel=channel,
                ts=ts,
                text=latest.text,
                blocks=latest.blocks,
            )

    async def _forget_card(self, ref: str) -> None:
        async with self.store.session() as session:
            case = await self.store.case_by_ref(session, ref)
            if case is not None:
                case.slack_channel = None
                case.slack_ts = None

    async def _card_thread(self, ref: str) -> tuple[Case, str, str] | None:
        """The case and its card's channel and ts; None (dropped) for an unknown case, and a
        retry while the card is not posted yet."""
        async with self.store.session() as session:
            case = await self.store.case_by_ref(session, ref)
        if case is None:
            log.warning("thread post for an unknown case dropped")
            return None
        if case.slack_channel is None or case.slack_ts is None:
            raise DeliveryFailed("card not posted yet", retry_after=5)
        return case, case.slack_channel, case.slack_ts

    async def _in_thread(
        self,
        ref: str,
        payload: dict[str, Any],
        text: str,
        *,
        broadcast: bool = False,
        retry: bool = False,
    ) -> Case | None:
        """Post in the case's thread; the case as it was read, None when it is gone."""
        thread = await self._card_thread(ref)
        if thread is None:
            return None
        case, channel, ts = thread
        key = str(
            payload.get("key")
            or f"{payload.get('kind')}:{ref}:{sha256(text.encode()).hexdigest()[:16]}"
        )
        await self._post(channel, key, text, thread_ts=ts, broadcast=broadcast, retry=retry)
        return case

    async def _evidence(self, ref: str, payload: dict[str, Any]) -> None:
        """A file the reporter added after sending: uploaded into the case's thread."""
        thread = await self._card_thread(ref)
        if thread is None:
            return
        case, channel, ts = thread
        async with self.store.session() as session:
            item = await session.get(Evidence, payload.get("evidence"))
            if item is None or item.case_id != case.id:
                return  # erased meanwhile
            content, name = bytes(item.content), item.filename or f"{item.kind}-{item.id}"
        await self._call(
            self.client.files_upload_v2,
            channel=channel,
            thread_ts=ts,
            content=content,
            filename=name,
            initial_comment=cards.escape(str(payload.get("text", ""))),
        )

    async def _reescalation(self, ref: str, payload: dict[str, Any], retry: bool) -> None:
        async with self.store.session() as session:
            case = await self.store.case_by_ref(session, ref)
            if case is None or case.status != "open":
                return  # picked up meanwhile: nothing to announce
            waited = int((self.store.clock.now() - case.created_at).total_seconds() // 60)
            announced = text(
                None,
                "card_reescalation",
                title=cards.title(case),
                urgency=cards.URGENCY.get(case.urgency, case.urgency).lower(),
                time=cards.when(case.created_at)[-5:],
                minutes=waited,
            )
        if self.settings.slack_oncall_group:
            announced = f"<!subteam^{self.settings.slack_oncall_group}> {announced}"
        await self._in_thread(ref, payload, announced, broadcast=True, retry=retry)

    async def _checkin_answer(self, ref: str, payload: dict[str, Any], retry: bool) -> None:
        """A worrying answer to a check-in: in the thread and the channel, for the owner."""
        async with self.store.session() as session:
            case = await self.store.case_by_ref(session, ref)
            if case is None:
                return
            owner = case.owner
        oncall = self.settings.slack_oncall_group
        who = cards.owner_text(owner) if owner else (f"<!subteam^{oncall}>" if oncall else "")
        text = f"{who} {cards.escape(str(payload.get('text', '')))}".strip()
        await self._in_thread(ref, payload, text, broadcast=True, retry=retry)
        await self._card(ref, place=False)

    async def _reminder(self, ref: str, payload: dict[str, Any], retry: bool) -> None:
        """The owner's reminder: in the card's thread, or in the channel when there is no card."""
        async with self.store.session() as session:
            case = await self.store.case_by_ref(session, ref)
            if not aftercare.is_open(case) or case.owner is None:
                return  # closed or handed back meanwhile
            reminder = cards.reminder(case, str(payload.get("text", "")))
            channel, ts = case.slack_channel, case.slack_ts
        key = str(payload.get("key") or f"reminder:{ref}")
        if channel and ts:
            await self._post(
                channel, key, reminder.text, reminder.blocks, thread_ts=ts, retry=retry
            )
        else:
            await self._post(
                self.channel,
                key,
                reminder.text,
                reminder.blocks,
                oldest=self._day_ago(),
                retry=retry,
            )

    async def _digest(self, payload: dict[str, Any], retry: bool) -> None:
        """The daily list of open cases nobody has picked up, as they are when it is posted."""
        refs = [ref for ref in payload.get("cases") or [] if isinstance(ref, str)]
        async with self.store.session() as session:
            rows = await session.execute(select(Case).where(Case.ref.in_(refs)))
            unowned = {c.ref: c for c in rows.scalars() if aftercare.is_open(c) and not c.owner}
            listed = cards.digest([unowned[ref] for ref in refs if ref in unowned])
        if not unowned:
            return  # everything was picked up meanwhile
        key = str(payload.get("key") or "digest")
        await self._post(
            self.channel, key, listed.text, listed.blocks, oldest=self._day_ago(), retry=retry
        )

    def _day_ago(self) -> float:
        return (self.store.clock.now() - timedelta(days=1)).timestamp()

    # --- talking to Slack ----------------------------------------------------------------

    async def _post(
        self,
        channel: str,
        key: str,
        text: str,
        blocks: cards.Blocks | None = None,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
        oldest: float | None = None,
        retry: bool = False,
    ) -> str:
        """Post once: on a retry, look for the message before posting again."""
        if retry:
            found = await self._find(channel, key, thread_ts, oldest)
            if found is not None:
                return found
        arguments: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "metadata": {"event_type": METADATA_TYPE, "event_payload": {"key": key}},
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if blocks is not None:
            arguments["blocks"] = blocks
        if thread_ts is not None:
            arguments["thread_ts"] = thread_ts
            arguments["reply_broadcast"] = broadcast
        response = await self._call(self.client.chat_postMessage, **arguments)
        return str(response["ts"])

    async def _find(
        self, channel: str, key: str, thread_ts: str | None, oldest: float | None
    ) -> str | None:
        """The ts of a message we posted under this key, if Slack has it."""
        cursor = None
        for _ in range(LOOKUP_PAGES):
            if thread_ts is not None:
                page = await self._call(
                    self.client.conversations_replies,
                    channel=channel,
                    ts=thread_ts,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            else:
                page = await self._call(
                    self.client.conversations_history,
                    channel=channel,
                    oldest=f"{oldest or 0:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            messages: list[dict[str, Any]] = page.get("messages", [])
            for message in messages:
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == METADATA_TYPE
                    and (metadata.get("event_payload") or {}).get("key") == key
                ):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    async def _call(self, method: Any, **arguments: Any) -> AsyncSlackResponse:
        """One Web API call; Slack trouble becomes DeliveryFailed with a backoff."""
        now = self.store.clock.now()
        if self._down_until is not None and now < self._down_until:
            wait = (self._down_until - now).total_seconds()
            raise DeliveryFailed("slack unavailable", retry_after=wait)  # not tried: not uncertain
        try:
            response: AsyncSlackResponse = await method(**arguments)
        except SlackApiError as error:
            raise self._failure(error) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as error:
            raise self._outage(type(error).__name__) from None
        self._failures = 0
        self._down_until = None
        return response

    def _failure(self, error: SlackApiError) -> DeliveryFailed:
        response = error.response
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        if status == 429:
            headers = getattr(response, "headers", {}) or {}
            try:
                retry_after = float(headers.get("Retry-After", headers.get("retry-after", 1)))
            except ValueError:
                retry_after = 1.0
            return self._outage("rate limited", retry_after)
        if status is None or status >= 500:
            return self._outage(f"slack {status}")
        code = response.get("error") if hasattr(response, "get") else None
        return SlackRefused(str(code or f"http {status}"))

    def _outage(self, reason: str, retry_after: float | None = None) -> SlackUnreachable:
        """Slack is down or busy: pause every call for a while, longer each time."""
        self._failures += 1
        wait = retry_after if retry_after is not None else min(MAX_BACKOFF, 2.0**self._failures)
        self._down_until = self.store.clock.now() + timedelta(seconds=wait)
        return SlackUnreachable(reason, retry_after=wait)


def _card_key(ref: str) -> str:
    return f"card:{ref}"
