"""The dialogue core: one message in, replies out. Knows no chat platform."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from datetime import timedelta

from bot.base.clock import Clock, SystemClock
from bot.base.messages import Button, Incoming, Reply, file_payload
from bot.base.redaction import safe_trace, user_tag
from bot.base.settings import Settings
from bot.core import danger
from bot.core.commands import COMMANDS
from bot.core.features import Features
from bot.core.turn import TurnContext, draft_files
from bot.store import Store
from bot.store.outbox import LEASE, Claimed, leased, may_lease
from flows import catalog
from flows.engine import DialogueState, Engine
from flows.validators import Valid, interpret, normalise
from knowledge import Knowledge
from nlu import NLU, NLUUnavailable
from nlu.parsing import unclassified
from nlu.safety import needs_112_line

log = logging.getLogger("weerbaar.dialogue")

# A message made of these words only (with at least one greeting) is a greeting, nothing more.
GREETING_WORDS = frozenset(
    "hoi hallo hallootjes hey hee heej hé hai hi hello yo goedemorgen goedemiddag goedenavond "
    "goedendag goeiemorgen goeiemiddag goeienavond goeiedag goeiendag mogguh morgen middag avond "
    "morning afternoon evening".split()
)
GREETING_FILLERS = frozenset(
    "goede goeie goeden good dag daar there allemaal bot weerbaar bestuur is er iemand hier nog "
    "ben je jij u ik het weer".split()
)

MAX_TEXT = 4096
# While a flow waits for an answer, a message only interrupts it (cancel, a side question) when
# the classifier is this sure; a lower bar would take answers such as "Op X" for "stop".
INTERRUPT_CONFIDENCE = 0.6
# Below this the classifier's "emergency" mid-flow still gets the 112 line, but does not
# throw away the answer (the deterministic safety net always interrupts).
SURE_EMERGENCY = 0.9
FLOW_INTENTS = (
    "report_incident",
    "request_support",
    "find_protocol",
    "find_training",
    "case_status",
)
DIGRESSIONS = ("find_protocol", "find_training", "case_status")
MENU = (
    ("report_incident", "menu_report"),
    ("request_support", "menu_support"),
    ("find_protocol", "menu_protocol"),
    ("find_training", "menu_training"),
    ("case_status", "menu_cases"),
)
_WISH_TO_REPORT = re.compile(
    r"^(ik )?(wil|wou|zou|kan|moet|ga)\b.*\b(melden|melding|rapporteren|doorgeven)\b", re.IGNORECASE
)


class TurnFailed(Exception):
    """A turn was not stored; the message says where it failed (never what was typed)."""


# "kan iemand me bellen?", "ik wil hulp", "bel me": a request for help, also in the middle of a report.
_ASKS_HELP = re.compile(
    r"^((kan|kunnen|wil|mag) (er )?(iemand|jullie|het team)\b.*\b(bellen|spreken|helpen|praten)"
    r"|(ik )?(wil|heb|zoek|vraag) (nu |graag |dringend )?(hulp|iemand spreken)"
    r"|(bel|help) (me|mij)\b)",
    re.IGNORECASE,
)


def without_nul(message: Incoming) -> Incoming:
    """The message without NUL characters: nobody types them, and PostgreSQL cannot store them."""

    def clean(value: str | None) -> str | None:
        return None if value is None else value.replace("\x00", "")

    files = tuple(
        replace(a, mime=clean(a.mime), filename=clean(a.filename)) for a in message.attachments
    )
    return replace(
        message, text=clean(message.text) or "", button=clean(message.button), attachments=files
    )


def is_story(text: str) -> bool:
    """Whether a first message already tells what happened (not just 'I want to report')."""
    words = text.split()
    return len(words) >= 5 and not (len(words) < 12 and _WISH_TO_REPORT.search(text))


class Dialogue:
    """Routes each message: safety first, then interruptions, then the running flow."""

    def __init__(
        self,
        store: Store,
        nlu: NLU,
        settings: Settings,
        knowledge: Knowledge,
        clock: Clock | None = None,
        *,
        features: Features,
    ) -> None:
        self.store = store
        self.nlu = nlu
        self.settings = settings
        self.knowledge = knowledge
        self.clock = clock or store.clock or SystemClock()
        self.catalog = catalog()
        self.features = features
        self.engine = Engine(self.catalog, features.actions)

    def text(self, key: str, **values: object) -> str:
        return self.catalog.text(None, key, **values)

    async def handle(
        self,
        message: Incoming,
        *,
        queue_replies: bool = False,
        raise_failure: bool = False,
        claimed: list[Claimed] | None = None,
    ) -> list[Reply]:
        """Process one message in its own transaction and return the replies.

        With queue_replies the replies are also written to the outbox in that transaction,
        so a channel that crashes before sending them still delivers them later; given a
        `claimed` list, they are leased to the caller there too, to send right after the
        commit (bot.store.outbox.send_claimed) without another claim. A turn that
        fails is answered with the error text, or, with raise_failure, raises TurnFailed (for a
        channel that tries the message again).
        """
        started = time.perf_counter()
        message = without_nul(message)
        text = message.text.strip()
        if not text and message.button is None and not message.attachments:
            return [Reply(self.text("empty_message"))]
        if len(text) > MAX_TEXT:
            return [Reply(self.text("too_long"))]
        parse = None
        try:
            if text and message.button is None and not text.startswith("/"):
                try:
                    parse = await self.nlu.parse(text)
                except NLUUnavailable:  # the NLU says so in the log, once
                    parse = unclassified(text)
            async with self.store.turn(message.user) as turn:
                if message.delivery and not await self.store.first_delivery(
                    turn.session, message.delivery
                ):
                    log.info("turn user=%s: delivered twice, handled once", user_tag(message.user))
                    return []
                state = DialogueState.from_json(turn.conversation.state or {})
                ctx = TurnContext(
                    state=state,
                    incoming=message,
                    now=self.clock.now(),
                    store=self.store,
                    session=turn.session,
                    reporter=turn.reporter,
                    settings=self.settings,
                    knowledge=self.knowledge,
                    engine=self.engine,
                    parse=parse,
                )
                if state.stack and turn.conversation.updated_at < ctx.now - timedelta(
                    hours=self.settings.draft_ttl_hours
                ):
                    await self._drop_flows(ctx)
                    ctx.say(self.text("draft_expired"))
                await self._route(ctx)
                if parse is not None and needs_112_line(parse, ctx.now):
                    self._112_first(ctx)
                offered = [b for r in ctx.replies for b in r.buttons]
                state.offered = [{"label": b.label, "payload": b.payload} for b in offered]
                await self.store.touch(turn.session, turn.conversation, state.to_json())
                if queue_replies:
                    lease = None
                    if claimed is not None and ctx.replies:
                        if await may_lease(turn.session, turn.reporter.id):
                            lease = self.store.clock.now() + LEASE
                    for reply in ctx.replies:
                        queued = await self.store.enqueue(
                            turn.session,
                            "user",
                            {
                                "user": message.user,
                                "text": reply.text,
                                "buttons": [
                                    {"label": b.label, "payload": b.payload} for b in reply.buttons
                                ],
                                **({"file": file_payload(reply.file)} if reply.file else {}),
                            },
                            reporter_id=turn.reporter.id,
                            lease=lease,
                        )
                        if claimed is not None and lease is not None:
                            claimed.append(leased(queued))
        except Exception as error:
            log.error("turn failed for %s: %s", user_tag(message.user), safe_trace(error))
            if raise_failure:
                raise TurnFailed(safe_trace(error)) from error
            return [Reply(self.text("error"))]
        log.info(
            "turn user=%s intent=%s source=%s ms=%.1f",
            user_tag(message.user),
            parse.intent if parse else "-",
            parse.source if parse else ("button" if message.button else "command"),
            (time.perf_counter() - started) * 1000,
        )
        return ctx.replies

    def _112_first(self, ctx: TurnContext) -> None:
        """The second line of defence: the first line of the reply says 112."""
        if ctx.replies and "112" in ctx.replies[0].text.splitlines()[0]:
            return
        line = self.text("emergency_line")
        if ctx.replies:
            ctx.replies[0] = replace(ctx.replies[0], text=f"{line}\n{ctx.replies[0].text}")
        else:
            ctx.say(line)

    # --- routing -------------------------------------------------------------------------

    async def _route(self, ctx: TurnContext) -> None:
        message = ctx.incoming
        active = self.engine.active(ctx.state)
        files_only = bool(message.attachments) and not ctx.text
        takes_files = (
            active is not None
            and active[2].collect is not None
            and active[1].slots[active[2].collect].type == "files"
        )
        # Whether a running flow takes this message (a file only when it asks for files).
        in_flow = active is not None and (takes_files or not files_only)
        typed = bool(ctx.text) and message.button is None and not ctx.text.startswith("/")
        if typed and (not in_flow or (ctx.parse is not None and ctx.parse.intent == "emergency")):
            danger.remember_said(ctx)
        parse = ctx.parse
        sure_danger = (
            parse is not None
            and parse.intent == "emergency"
            and (parse.source != "classifier" or parse.confidence >= SURE_EMERGENCY)
        )
        # E.g. a case waits for the team: the reporter's words go to its thread.
        for intercept in self.features.intercepts:
            if await intercept(ctx, in_flow=in_flow, sure_danger=sure_danger):
                if self.engine.active(ctx.state):
                    await self.engine.reask(ctx, prefix_key="resume")
                return
        if message.button is not None:
            standing = self.features.standing_button(message.button)
            if standing is not None:
                # E.g. a check-in, answered days later: checked against the store by its handler.
                handler, value = standing
                await handler(ctx, value)
                return
            payload = self._offered(ctx.state, message.button)
            if payload is None:
                ctx.say(self.text("expired_button"))
                await self.engine.reask(ctx)
                return
            ctx.payload = payload
            await self._on_payload(ctx, payload)
            return
        if ctx.text.startswith("/"):
            command = COMMANDS.get(ctx.command or "")
            if command is None:
                ctx.say(self.text("unknown_command"))
                self._menu(ctx)
                return
            intent = command.intent
            if intent == "start" and len(ctx.text.split()) > 1:  # a deep link: an invite code
                for deep_link in self.features.deep_links:
                    await deep_link(ctx, ctx.text.split(maxsplit=1)[1])
                if self.engine.active(ctx.state):
                    await self.engine.reask(ctx, prefix_key="resume")
                else:
                    self._menu(ctx)
                return
            await self._on_intent(ctx, intent, confident=True)
            return
        if files_only:
            await self._on_files(ctx, takes_files)
            return
        assert ctx.parse is not None
        await self._on_intent(ctx, ctx.parse.intent, confident=not ctx.parse.fallback)

    def _offered(self, state: DialogueState, pressed: str) -> str | None:
        """The payload of an offered button matched by payload or label; None if stale or forged."""
        pressed = pressed.strip()
        for button in state.offered:
            if pressed == button["payload"]:
                return button["payload"]
        for button in state.offered:
            if normalise(pressed) == normalise(button["label"]):
                return button["payload"]
        return None

    async def _on_files(self, ctx: TurnContext, takes_files: bool) -> None:
        if takes_files:
            await self.engine.answer(ctx)
            return
        for handler in self.features.files:
            if await handler(ctx):
                return
        ctx.say(self.text("files_not_expected"))
        await self.engine.reask(ctx)

    async def _on_payload(self, ctx: TurnContext, payload: str) -> None:
        kind, _, value = payload.partition(":")
        found = self.features.button(payload)
        if payload == danger.REPORT_NOW:
            story = danger.last_said(ctx)
            slots = {"story": " ".join(story.split())} if story and is_story(story) else {}
            await self._drop_flows(ctx)
            await self.engine.start(ctx, "report_incident", slots)
        elif payload == danger.NOT_NEEDED:
            ctx.say(self.text("not_needed"))
        elif payload == "resume":
            if self.engine.active(ctx.state):
                await self.engine.reask(ctx)
            else:
                self._menu(ctx)
        elif payload == "stop" or payload == "cancel:yes":
            await self._drop_flows(ctx)
            ctx.say(self.text("cancelled"))
        elif payload == "cancel:no":
            ctx.state.pending_cancel = False
            await self.engine.reask(ctx)
        elif kind == "intent":
            await self._on_intent(ctx, value, confident=True)
        elif found is not None:
            handler, value = found
            await handler(ctx, value)
        elif self.engine.active(ctx.state):
            await self.engine.answer(ctx)
        else:
            self._menu(ctx)

    async def _on_intent(self, ctx: TurnContext, intent: str, *, confident: bool) -> None:
        if ctx.state.pending_cancel:
            ctx.state.pending_cancel = False
            if intent in ("affirm", "cancel"):
                await self._drop_flows(ctx)
                ctx.say(self.text("cancelled"))
                return
            if intent == "deny":
                await self.engine.reask(ctx)
                return
        active = self.engine.active(ctx.state)
        if intent == "emergency":
            parse = ctx.parse
            if (
                active
                and parse
                and parse.source == "classifier"
                and parse.confidence < SURE_EMERGENCY
            ):
                # Unsure, and a flow waits: 112 first, then keep the words as the answer.
                ctx.say(self.text("emergency"))
                await self.engine.answer(ctx)
                return
            danger.say_emergency(ctx)
            return
        if active is not None:
            await self._in_flow(ctx, intent, confident)
            return
        if not confident:
            await self._fallback(ctx)
        elif intent in FLOW_INTENTS:
            await self._start(ctx, intent)
        elif intent == "start":
            ctx.say(self.text("welcome"), self._menu_buttons())
        elif intent == "greet":
            ctx.say(self.text("welcome"), self._menu_buttons())
        elif intent == "help":
            ctx.say(self.text("help"), self._menu_buttons())
        elif intent == "thank":
            ctx.say(self.text("thanks"))
        elif intent == "goodbye":
            ctx.say(self.text("goodbye"))
        elif intent in self.features.intents:
            await self.features.intents[intent](ctx)
        elif intent == "cancel":
            ctx.say(self.text("nothing_to_cancel"), self._menu_buttons())
        elif intent == "out_of_scope":
            ctx.say(self.text("out_of_scope"), await self._add_offer(ctx) + self._menu_buttons())
        else:
            self._menu(ctx)

    async def _in_flow(self, ctx: TurnContext, intent: str, confident: bool) -> None:
        """A flow waits for an answer: decide whether this message answers it or interrupts."""
        active = self.engine.active(ctx.state)
        assert active is not None
        frame, flow, step = active
        slot = flow.slots[step.collect] if step.collect else None
        if ctx.parse is not None:
            confident = confident and ctx.parse.confidence >= INTERRUPT_CONFIDENCE
        if intent == "cancel" and confident:
            ctx.state.pending_cancel = True
            ctx.say(
                self.text("cancel_confirm"),
                (
                    Button(self.text("button_cancel_yes"), "cancel:yes"),
                    Button(self.text("button_cancel_no"), "cancel:no"),
                ),
            )
            return
        if ctx.parse is None:  # a command
            if (
                intent in DIGRESSIONS
                or intent == "help"
                or intent in self.features.intents
                or intent == "start"
            ):
                await self._interrupt(ctx, intent)
            else:
                await self._start(ctx, intent)
            return
        if slot is not None and slot.type != "text" and frame.guess is None:
            entity = ctx.parse.entity(slot.entity) if slot.entity else None
            fits = interpret(
                slot, ctx.text, payload=None, intent=intent, entity=entity, now=ctx.now
            )
            if isinstance(fits, Valid):
                await self.engine.answer(ctx)
                return
        if flow.name == "report_incident" and (
            (confident and intent == "request_support") or _ASKS_HELP.search(ctx.text)
        ):
            await self._start(ctx, "request_support")
            return
        # A free-text answer ("Bij het gemeentehuis van Heiloo", "Hulp bij het doen van
        # aangifte") is kept, whatever greeting or topic the classifier hears in it; only a
        # message that is nothing but a greeting is answered as one, and only a question
        # ("Hoe doe ik aangifte?") is taken as a side question.
        if slot is not None and slot.type == "text":
            if self._only_a_greeting(ctx.text):
                await self._interrupt(ctx, "greet")
                return
            if intent == "greet" or (intent in DIGRESSIONS and "?" not in ctx.text):
                await self.engine.answer(ctx)
                return
        if confident and (intent in DIGRESSIONS or intent in ("help", "greet")):
            await self._interrupt(ctx, intent)
            return
        await self.engine.answer(ctx)

    @staticmethod
    def _only_a_greeting(text: str) -> bool:
        """Whether a message says hello and nothing else ("hallo?", "goedemiddag", "hoi daar")."""
        words = re.findall(r"\w+", text.casefold())
        return (
            0 < len(words) <= 6
            and any(word in GREETING_WORDS for word in words)
            and all(word in GREETING_WORDS or word in GREETING_FILLERS for word in words)
        )

    async def _interrupt(self, ctx: TurnContext, intent: str) -> None:
        """Answer a side question, then ask the pending question again."""
        if intent in DIGRESSIONS:
            top = ctx.state.stack[-1]
            if self.catalog.flows[top.flow].digression:
                ctx.state.stack.pop()  # a new side question replaces the old one
            await self.engine.start(ctx, intent)
            return
        if intent == "greet":
            await self.engine.reask(ctx, prefix_key="greet_again")
            return
        if intent in self.features.intents:
            await self.features.intents[intent](ctx)
        else:
            ctx.say(self.text("help" if intent == "help" else "menu"))
        await self.engine.reask(ctx, prefix_key="resume")

    async def _start(self, ctx: TurnContext, intent: str) -> None:
        running = {frame.flow for frame in ctx.state.stack}
        if intent in running and intent in ("report_incident", "request_support"):
            await self.engine.reask(ctx, prefix_key="resume")  # already on it; nothing dropped
            return
        # Help asked in the middle of a report: the report waits under it and goes along.
        keep = intent in DIGRESSIONS or (
            intent == "request_support" and "report_incident" in running
        )
        if ctx.state.stack and not keep:
            await self._drop_flows(ctx)
        slots = {}
        if intent == "report_incident" and ctx.parse is not None and is_story(ctx.text):
            slots["story"] = " ".join(ctx.text.split())
        if intent == "request_support" and keep and ctx.parse is not None:
            slots["need"] = " ".join(ctx.text.split())[:1000]
        await self.engine.start(ctx, intent, slots)

    async def _drop_flows(self, ctx: TurnContext) -> None:
        """Forget every running flow and the files sent for an unfinished report."""
        for frame in ctx.state.stack:
            await ctx.store.discard_drafts(ctx.session, draft_files(frame))
        ctx.state.stack.clear()
        ctx.state.pending_cancel = False

    def _menu_buttons(self) -> tuple[Button, ...]:
        return tuple(Button(self.text(label), f"intent:{intent}") for intent, label in MENU)

    def _menu(self, ctx: TurnContext) -> None:
        ctx.say(self.text("menu"), self._menu_buttons())

    async def _add_offer(self, ctx: TurnContext) -> tuple[Button, ...]:
        """What features offer beside a fallback answer (e.g. adding to the report just sent)."""
        return tuple([b for offer in self.features.offers for b in await offer(ctx)])

    async def _fallback(self, ctx: TurnContext) -> None:
        """Do not guess: offer the likely options and 'something else'."""
        assert ctx.parse is not None
        if ctx.parse.source == "unavailable":  # not understood now: the menu, with a short note
            ctx.say(
                self.text("nlu_unavailable"), (*await self._add_offer(ctx), *self._menu_buttons())
            )
            return
        labels = dict(MENU)
        likely = [i for i, _ in ctx.parse.ranking if i in labels][:3] or [i for i, _ in MENU[:3]]
        buttons = list(await self._add_offer(ctx))
        buttons += [Button(self.text(labels[i]), f"intent:{i}") for i in likely]
        buttons.append(Button(self.text("fallback_other"), "intent:help"))
        ctx.say(self.text("fallback"), buttons)
