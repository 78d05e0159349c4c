"""Who is on the support team (the members of the support channel) and what they are called."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from flows import text

MEMBERS_TTL = 60.0  # seconds; someone removed from the channel loses access within a minute
NAMES_TTL = 600.0


@dataclass(frozen=True)
class Member:
    """A support team member as the timeline and the reporter know them."""

    id: str
    name: str
    first_name: str

    @property
    def actor(self) -> str:
        """Who did it, for the timeline: the name with the Slack id that makes it unique."""
        return f"{self.name} ({self.id})"


class Team:
    """Channel membership and names from the Web API, each cached briefly."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.channel = channel
        self._monotonic = monotonic
        self._members: tuple[float, frozenset[str]] | None = None
        self._names: dict[str, tuple[float, Member]] = {}

    async def is_member(self, user_id: str) -> bool:
        """Whether the user is in the support channel (raises when Slack cannot tell)."""
        now = self._monotonic()
        if self._members is None or now - self._members[0] > MEMBERS_TTL:
            members: set[str] = set()
            cursor = None
            while True:
                page = await self.client.conversations_members(
                    channel=self.channel, limit=500, cursor=cursor
                )
                members.update(page.get("members", []))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
            self._members = (now, frozenset(members))
        return user_id in self._members[1]

    async def member(self, user_id: str) -> Member:
        """The member's name from users.info; a neutral name when Slack does not answer."""
        now = self._monotonic()
        cached = self._names.get(user_id)
        if cached and now - cached[0] <= NAMES_TTL:
            return cached[1]
        try:
            user = (await self.client.users_info(user=user_id)).get("user") or {}
        except Exception:  # a name is nice to have; the action itself must go on
            neutral = text(None, "desk_member_name")
            return Member(user_id, neutral, neutral)
        profile = user.get("profile") or {}
        name = (
            profile.get("real_name")
            or user.get("real_name")
            or profile.get("display_name")
            or user.get("name")
            or text(None, "desk_member_name")
        ).strip()
        first = (profile.get("first_name") or name.split()[0]).strip()
        found = Member(user_id, name, first)
        self._names[user_id] = (now, found)
        return found
