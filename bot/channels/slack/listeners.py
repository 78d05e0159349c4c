"""What the support team's buttons, modals, slash command and thread replies do."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.base.messages import ToTeam
from bot.base.redaction import safe_trace
from bot.base.settings import Settings
from bot.channels.slack import cards
from bot.channels.slack.team import Member, Team
from bot.features import aftercare, dossier, invites, relay
from bot.features.insights import chart, stats
from bot.features.support import cases, escalation
from bot.jobs.scheduler import Scheduler
from bot.store import Case, Store
from flows import text

log = logging.getLogger("weerbaar.slack")

REF = re.compile(r"^WB-\d{4}-\d{4,}$")
SNOOZE = re.compile(r"^snooze_(hour|tomorrow|week)$")
OPEN_LIMIT = 50
RELAYED_SUBTYPES = (None, "thread_broadcast", "file_share")

Handler = Callable[..., Awaitable[Any]]


def plain(markup: str) -> str:
    """Slack's message markup as plain text for the reporter: links spelled out, no mentions."""

    def link(match: re.Match[str]) -> str:
        target, label = match["target"], match["label"]
        if target.startswith("@"):
            return label or text(None, "desk_mention_someone")
        if target.startswith("#"):
            return f"#{label}" if label else text(None, "desk_mention_channel")
        if target.startswith("!"):
            return label or ""
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        return f"{label} ({target})" if label and label != target else target

    spelled = re.sub(r"<(?P<target>[^<>|]+)(?:\|(?P<label>[^<>]*))?>", link, markup)
    return spelled.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _ref(body: dict[str, Any]) -> str | None:
    """The case reference a button carries, if it is one."""
    actions = body.get("actions") or [{}]
    value = str(actions[0].get("value") or "")
    return value if REF.match(value) else None


class Listeners:
    """The team's side of a case; each handler acknowledges Slack first, then acts."""

    def __init__(self, store: Store, settings: Settings, scheduler: Scheduler, team: Team) -> None:
        assert settings.slack_support_channel
        self.store = store
        self.settings = settings
        self.scheduler = scheduler
        self.team = team
        self.channel = settings.slack_support_channel

    def register(self, bolt: AsyncApp, tracked: Callable[[Handler], Handler]) -> None:
        bolt.middleware(self.only_team)
        bolt.action("ack")(tracked(self.on_acknowledge))
        bolt.action("chat")(tracked(self.on_start_chat))
        bolt.action("end_chat")(tracked(self.on_end_chat))
        bolt.action("close")(tracked(self.on_close))
        bolt.action("dossier")(tracked(self.on_dossier))
        bolt.action(SNOOZE)(tracked(self.on_snooze))
        bolt.view("close_case")(tracked(self.on_close_submitted))
        bolt.command("/weerbaar")(tracked(self.on_command))
        bolt.event("message")(tracked(self.on_message))
        bolt.event("app_home_opened")(tracked(self.on_home))
        bolt.error(self.on_error)

    # --- who may act ----------------------------------------------------------------------

    async def only_team(
        self,
        body: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
        resp: BoltResponse,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse:
        """Buttons, modals, the command and thread replies: for members of the support channel."""
        kind = "command" if "command" in body else body.get("type")
        if kind == "event_callback":
            if self._thread_reply(body.get("event") or {}) is None:
                await next()  # not something a person does on a case
                return resp
            kind = "thread reply"
        elif kind not in ("block_actions", "view_submission", "command"):
            await next()
            return resp
        user = context.user_id
        try:
            allowed, why = bool(user) and await self.team.is_member(user), "desk_refusal"
        except Exception as error:
            log.warning("channel membership unknown (%s)", type(error).__name__)
            allowed, why = False, "desk_unverified"
        if allowed:
            await next()
            return resp
        log.info("refused a Slack %s from outside the support channel", kind)
        refusal = text(None, why)
        if kind == "command":
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": refusal})
        if kind == "view_submission":
            return BoltResponse(
                status=200, body={"response_action": "errors", "errors": {"reason": refusal}}
            )
        if kind == "thread reply":
            event = body["event"]
            await self._note(client, str(user or ""), str(event["thread_ts"]), refusal)
            return BoltResponse(status=200, body="")
        await self._tell(body, client, context.respond, refusal)
        return BoltResponse(status=200, body="")

    def _thread_reply(self, event: dict[str, Any]) -> str | None:
        """The thread a person's message in the support channel answers in, if it is one."""
        if event.get("type") != "message" or event.get("bot_id"):
            return None
        if event.get("subtype") not in RELAYED_SUBTYPES or not event.get("user"):
            return None
        thread = event.get("thread_ts")
        if event.get("channel") != self.channel or not thread or thread == event.get("ts"):
            return None
        return str(thread)

    async def _note(self, client: AsyncWebClient, user: str, thread: str, text: str) -> None:
        """A note in a thread only this person sees (Slack refuses it to non-members)."""
        try:
            await client.chat_postEphemeral(
                channel=self.channel, user=user, thread_ts=thread, text=text
            )
        except Exception as error:
            log.info("could not leave a private note (%s)", type(error).__name__)

    async def _tell(
        self, body: dict[str, Any], client: AsyncWebClient, respond: Any, text: str
    ) -> None:
        """An answer only the clicking person sees."""
        try:
            if respond is not None and body.get("response_url"):
                await respond(text=text, response_type="ephemeral", replace_original=False)
            else:
                user = str((body.get("user") or {}).get("id", ""))
                await client.chat_postEphemeral(channel=self.channel, user=user, text=text)
        except Exception as error:
            log.warning("could not answer a team member (%s)", type(error).__name__)

    # --- buttons on the card --------------------------------------------------------------

    async def on_acknowledge(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Oppakken: take ownership; the reporter hears who and what happens next."""
        await ack()
        ref = _ref(body)
        member = await self.team.member(body["user"]["id"])
        try:
            case = await cases.acknowledge(self.store, ref or "-", member.actor)
        except cases.CaseNotFound:
            await self._tell(body, client, respond, text(None, "desk_unknown_case"))
            return
        if case.status == "closed":
            await self._tell(body, client, respond, text(None, "desk_already_closed"))
            return
        await escalation.unwatch(self.scheduler, case.ref)
        await aftercare.ensure_reminder(self.scheduler, case.ref)
        await self._refresh(case.ref)

    async def on_start_chat(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Chat starten: the reporter's messages go to the card's thread from now on."""

        async def start(session: Any, case: Case, member: Member) -> bool:
            if not await relay.start_contact(self.store, session, case, member.actor):
                return False
            note = text(relay.FLOW, "team_started", name=member.name)
            await relay.tell_team(self.store, session, case, "note", text=note)
            return True

        case, started = await self._contact(ack, body, start)
        if case is None:
            await self._tell(body, client, respond, text(None, "desk_unknown_case"))
        elif not started:
            await self._tell(body, client, respond, cards.STATUS.get(case.status, case.status))
        else:
            await escalation.unwatch(self.scheduler, case.ref)

    async def on_end_chat(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Contact beëindigen: the reporter talks to the bot again."""

        async def end(session: Any, case: Case, member: Member) -> bool:
            if not await relay.end_contact(self.store, session, case, member.actor):
                return False
            ended = text(relay.FLOW, "ended_by_team", ref=case.ref)
            await relay.tell_reporter(self.store, session, case, ended)
            note = text(relay.FLOW, "team_ended_by_team", name=member.name)
            await relay.tell_team(self.store, session, case, "note", text=note)
            return True

        case, ended = await self._contact(ack, body, end)
        if not ended:
            missing = "desk_unknown_case" if case is None else "desk_no_contact"
            await self._tell(body, client, respond, text(None, missing))

    async def _contact(
        self,
        ack: Any,
        body: dict[str, Any],
        change: Callable[[Any, Case, Member], Awaitable[bool]],
    ) -> tuple[Case | None, bool]:
        """Start or end contact with the reporter: the case pressed on, and whether it changed."""
        await ack()
        member = await self.team.member(body["user"]["id"])
        async with self.store.session() as session:
            case = await self._case(session, _ref(body))
            return case, case is not None and await change(session, case, member)

    async def on_close(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Afsluiten: ask for the reason in a modal."""
        await ack()
        async with self.store.session() as session:
            case = await self._case(session, _ref(body))
            status = case.status if case else None
        if case is None or status == "closed":
            missing = "desk_unknown_case" if case is None else "desk_already_closed"
            await self._tell(body, client, respond, text(None, missing))
            return
        await client.views_open(trigger_id=body["trigger_id"], view=cards.close_form(case.ref))

    async def on_close_submitted(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """The close modal: close the case with its reason; the reporter hears it."""
        ref = str(view.get("private_metadata") or "")
        values = (view.get("state") or {}).get("values") or {}
        reason = " ".join(
            str((values.get("reason") or {}).get("reason", {}).get("value") or "").split()
        )
        if len(reason) < 3:
            await ack(response_action="errors", errors={"reason": text(None, "desk_short_reason")})
            return
        await ack()
        if not REF.match(ref):
            return
        member = await self.team.member(body["user"]["id"])
        try:
            await cases.close(self.store, ref, member.actor, reason)
        except cases.CaseNotFound:
            return
        await escalation.unwatch(self.scheduler, ref)
        await self._refresh(ref)

    async def on_snooze(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """1 uur, Morgen, Volgende week: the owner's reminder comes back then."""
        await ack()
        ref = _ref(body)
        choice = str((body.get("actions") or [{}])[0].get("action_id", "")).removeprefix("snooze_")
        member = await self.team.member(body["user"]["id"])
        until = None
        if ref is not None and choice in aftercare.SNOOZES:
            until = await aftercare.snooze(self.scheduler, ref, choice, member.actor)
        if until is None:
            await self._tell(body, client, respond, text(None, "desk_not_snoozed"))
            return
        await self._tell(body, client, respond, text(None, "desk_snoozed", when=cards.when(until)))

    async def on_dossier(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Dossier: every field, the evidence and the timeline, and the PDF in the card's thread.

        The viewing and the PDF are on the timeline, with who and when.
        """
        await ack()
        member = await self.team.member(body["user"]["id"])
        async with self.store.session() as session:
            case = await self._case(session, _ref(body))
            if case is not None:
                seen = await self.store.add_event(session, case, "dossier_viewed", member.actor)
                case.events.append(seen)  # already in the session; shown in this very dossier
                view = cards.dossier(case)
        if case is None:
            await self._tell(body, client, respond, text(None, "desk_unknown_case"))
            return
        await client.views_open(trigger_id=body["trigger_id"], view=view)
        await self._upload_dossier(case.ref, member, body, client, respond)

    async def _upload_dossier(
        self, ref: str, member: Member, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """The aangifte dossier as a PDF in the card's thread (files upload v2)."""
        async with self.store.session() as session:
            case = await self._case(session, ref)
            assert case is not None
            try:
                made = await dossier.pdf_file(case, self.store.clock.now())
            except dossier.DossierUnavailable:
                await self._tell(body, client, respond, text(dossier.FLOW, "team_dossier_gone"))
                return
            try:
                await client.files_upload_v2(
                    channel=case.slack_channel or self.channel,
                    thread_ts=case.slack_ts,
                    filename=made.name,
                    title=text(dossier.FLOW, "team_dossier_title", ref=ref),
                    content=made.data,
                    initial_comment=text(
                        dossier.FLOW, "team_dossier_comment", ref=ref, name=member.name
                    ),
                )
            except Exception as error:
                log.warning("dossier upload failed (%s)", type(error).__name__)
                await self._tell(body, client, respond, text(dossier.FLOW, "team_dossier_failed"))
                return
            await self.store.add_event(session, case, "dossier_made", member.actor, {"for": "team"})

    # --- /weerbaar ------------------------------------------------------------------------

    async def on_command(
        self, ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """/weerbaar open | zaak REF | cijfers | help, answered only to the one who asked."""
        words = str(command.get("text") or "").split()
        action = words[0].lower() if words else "help"
        if action == "cijfers":
            await self._figures(
                ack, " ".join(words[1:]), str(command.get("user_id")), client, respond
            )
            return
        if action == "open" and len(words) == 1:
            answer = await self._open_cases()
        elif action == "zaak" and len(words) == 2:
            answer = await self._one_case(words[1])
        elif action == "uitnodiging":
            answer = await self._invite(words[1:], str(command.get("user_id") or ""))
        else:
            help_text = text(None, "desk_help")
            if action != "help":
                help_text = text(None, "desk_unknown_command") + "\n" + help_text
            answer = cards.Card(help_text, [cards.section(help_text)])
        await ack(response_type="ephemeral", text=answer.text, blocks=answer.blocks)

    async def _figures(
        self, ack: Any, period_text: str, user: str, client: AsyncWebClient, respond: Any
    ) -> None:
        """/weerbaar cijfers [periode]: service level as the answer, the chart in a direct message."""
        try:
            period = stats.Period.parse(period_text, self.store.clock.now())
        except stats.PeriodError as error:
            await ack(response_type="ephemeral", text=str(error))
            return
        # Slack wants an answer within 3 s; counting a large store may take longer.
        await ack(response_type="ephemeral", text=text(None, "stats_counting"))
        found = await stats.report(self.store, period, self.settings.support_response_minutes)
        months = found.period.months
        lines = [
            f"*{text(None, 'stats_title', first=months[0], last=months[-1])}*",
            text(None, "stats_service_title", promise=found.promise_minutes),
            *(stats.service_line(week) for week in found.service if week["escalations"]),
            text(None, "stats_now", **found.now),
            text(None, "stats_chart_sent"),
        ]
        answer = cards.figures(lines)
        await respond(
            text=answer.text,
            blocks=answer.blocks,
            response_type="ephemeral",
            replace_original=False,
        )
        try:
            png = await asyncio.to_thread(chart.category_chart, found)
            opened = await client.conversations_open(users=user)
            await client.files_upload_v2(
                channel=opened["channel"]["id"],
                content=png,
                filename=f"weerbaar-cijfers-{months[0]}-{months[-1]}.png",
                title=text(None, "stats_chart_title", first=months[0], last=months[-1]),
                initial_comment=text(None, "stats_chart_file", first=months[0], last=months[-1]),
            )
        except Exception as error:
            log.warning("could not send the figures chart (%s)", type(error).__name__)
            await respond(
                text=text(None, "stats_chart_failed"),
                response_type="ephemeral",
                replace_original=False,
            )

    async def _invite(self, words: list[str], user: str) -> cards.Card:
        """/weerbaar uitnodiging ROL GEMEENTE: a single-use verification link."""
        try:
            if len(words) < 2:
                raise invites.InviteError(text(None, "desk_invite_usage"))
            member = await self.team.member(user)
            made = await invites.create(self.store, words[0], " ".join(words[1:]), member.actor)
        except invites.InviteError as error:
            return cards.Card(str(error), [cards.section(cards.escape(str(error)))])
        announced = invites.announce(made, self.settings.telegram_bot_username)
        return cards.Card(announced, [cards.section(cards.escape(announced))])

    async def _open_cases(self) -> cards.Card:
        async with self.store.session() as session:
            return cards.open_cases(await self.store.open_cases(session, OPEN_LIMIT))

    async def _one_case(self, ref: str) -> cards.Card:
        ref = ref.strip().upper()
        async with self.store.session() as session:
            case = await self._case(session, ref if REF.match(ref) else None)
            if case is None:
                unknown = text(None, "team_no_such_case", ref=cards.escape(ref))
                return cards.Card(unknown, [cards.section(unknown)])
            return cards.card(case)

    # --- Home tab -------------------------------------------------------------------------

    async def on_home(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        """The Home tab: drawn anew each time a support channel member opens it."""
        user = str(event.get("user") or "")
        if event.get("tab", "home") != "home" or not user:
            return
        try:
            allowed = await self.team.is_member(user)
        except Exception as error:
            log.warning("channel membership unknown (%s)", type(error).__name__)
            view = cards.home_notice("home_unverified")
        else:
            view = await self._home(user) if allowed else cards.home_notice("home_refused")
        await client.views_publish(user_id=user, view=view)

    async def _home(self, user: str) -> dict[str, Any]:
        now = self.store.clock.now()
        week = stats.week_of(now)
        async with self.store.session() as session:
            load = await stats.workload(session, user)
            waiting = await self.store.unowned_cases(session, cards.HOME_WAITING)
            new = await self.store.cases_since(session, week[0][1])
            [service] = await stats.service_level(
                session, self.store, week, self.settings.support_response_minutes
            )
            return cards.home(load, waiting, new, stats.service_line(service))

    # --- thread replies -------------------------------------------------------------------

    async def on_message(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        """A team member's reply in a card's thread goes to the reporter."""
        thread = self._thread_reply(event)
        if thread is None:
            return
        channel, user = self.channel, str(event["user"])
        said = plain(str(event.get("text") or ""))
        member = await self.team.member(user)
        async with self.store.session() as session:
            case = await self.store.case_by_thread(session, channel, thread)
            if case is None:
                return  # a thread under some other message
            ref, was_in_contact = case.ref, case.status == "in_contact"
            relayed = bool(said) and await relay.from_team(
                self.store, session, case, member.actor, member.first_name, said
            )
            if relayed and not was_in_contact:
                await self.store.tell_team(session, ToTeam("card", case=ref), case_id=case.id)
            closed = case.status == "closed"
        if closed:
            await self._note(client, user, thread, text(None, "desk_not_relayed"))
        elif event.get("files"):
            await self._note(client, user, thread, text(None, "desk_files_not_relayed"))
        if relayed and not was_in_contact:
            await escalation.unwatch(self.scheduler, ref)

    async def on_error(self, error: Exception) -> None:
        log.error("slack listener failed: %s", safe_trace(error))

    # --- helpers --------------------------------------------------------------------------

    async def _case(self, session: Any, ref: str | None) -> Case | None:
        return None if ref is None else await self.store.case_by_ref(session, ref)

    async def _refresh(self, ref: str) -> None:
        """Have the card show the case as it is now (through the outbox, so it is retried)."""
        async with self.store.session() as session:
            case = await self.store.case_by_ref(session, ref)
            if case is not None:
                await self.store.tell_team(session, ToTeam("card", case=ref), case_id=case.id)
