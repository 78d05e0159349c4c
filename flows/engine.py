"""The one small interpreter that runs every flow."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from flows.model import END, Catalog, Flow, Step
from flows.validators import (
    DONE_WORDS,
    SKIP_WORDS,
    Invalid,
    Valid,
    interpret,
    is_unknown,
    normalise,
    unknown_answer,
)
from nlu import Parse

MAX_STEPS_PER_TURN = 100


@dataclass
class Frame:
    """One running flow: where it is and what it has collected."""

    flow: str
    step: str
    slots: dict[str, Any] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)  # how each slot reads in a summary
    skipped: list[str] = field(default_factory=list)
    invalid: int = 0
    return_to: str | None = None  # the summary step an edit goes back to
    guess: dict[str, Any] | None = None  # a value waiting for the reporter's yes


@dataclass
class DialogueState:
    """Everything the bot remembers about one conversation, stored as JSON."""

    stack: list[Frame] = field(default_factory=list)
    offered: list[dict[str, str]] = field(default_factory=list)
    pending_cancel: bool = False
    # The reporter's last words outside a flow, and danger ({"at", "text"}): what an alert is about.
    said: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DialogueState:
        # A deep copy: changing the loaded value in place would hide the change from the store.
        raw = copy.deepcopy(raw)
        return cls(
            stack=[Frame(**f) for f in raw.get("stack", [])],
            offered=list(raw.get("offered", [])),
            pending_cancel=bool(raw.get("pending_cancel", False)),
            said=list(raw.get("said", [])),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# A button as the engine offers it: (label, payload).
Choice = tuple[str, str]


class Turn(Protocol):
    """What the engine needs of one turn; the application's turn context provides it."""

    state: DialogueState
    now: datetime
    parse: Parse | None
    payload: str | None  # the pressed button, already checked against what was offered

    @property
    def text(self) -> str:
        """The message's text, stripped."""
        ...

    @property
    def has_files(self) -> bool:
        """Whether the message carries files."""
        ...

    def say(self, text: str, buttons: tuple[Choice, ...] | list[Choice] = ()) -> None:
        """Add a reply, with buttons."""
        ...


# A flow action gets the application's own turn (a Turn, and more), the frame and the flow.
Action = Callable[[Any, Frame, Flow], Awaitable[str | None]]


class Engine:
    """Runs flows: asks for what is missing, checks answers, follows `next`."""

    def __init__(self, catalog: Catalog, actions: dict[str, Action]) -> None:
        self.catalog = catalog
        self.actions = actions

    def text(self, flow: Flow | None, key: str, **values: Any) -> str:
        return self.catalog.text(flow, key, **values)

    def active(self, state: DialogueState) -> tuple[Frame, Flow, Step] | None:
        """The top frame and the question it waits on."""
        if not state.stack:
            return None
        frame = state.stack[-1]
        flow = self.catalog.flows[frame.flow]
        return frame, flow, flow.step(frame.step)

    async def start(self, ctx: Turn, name: str, slots: dict[str, Any] | None = None) -> None:
        """Begin a flow on top of whatever runs (a digression) and run to its first question."""
        flow = self.catalog.flows[name]
        frame = Frame(flow=name, step=flow.steps[0].id, slots=dict(slots or {}))
        for slot, value in list(frame.slots.items()):
            frame.shown.setdefault(slot, str(value))
            if flow.slots.get(slot) and flow.slots[slot].gather_seconds:
                frame.slots[f"{slot}_at"] = ctx.now.isoformat()
        ctx.state.stack.append(frame)
        await self._run(ctx)

    async def reask(self, ctx: Turn, prefix_key: str | None = None) -> None:
        """Ask the pending question again (after an interruption)."""
        active = self.active(ctx.state)
        if active is None:
            return
        frame, flow, step = active
        if prefix_key:
            ctx.say(self.text(flow, prefix_key))
        if frame.guess is not None:
            self._ask_guess(ctx, flow, frame)
        else:
            await self._ask(ctx, frame, flow, step)

    async def answer(self, ctx: Turn) -> None:
        """Use this message as the answer to the pending question."""
        active = self.active(ctx.state)
        if active is None:
            return
        frame, flow, step = active
        assert step.collect is not None
        slot = flow.slots[step.collect]
        payload = ctx.payload
        intent = ctx.parse.intent if ctx.parse and not ctx.parse.fallback else None

        if frame.guess is not None:
            reply = payload or normalise(ctx.text)
            yes = reply in ("ja", "klopt", "ja klopt") or intent == "affirm"
            no = reply in ("nee", "klopt niet", "nee klopt niet") or intent == "deny"
            guess, frame.guess = frame.guess, None
            if yes:
                self._fill(ctx, frame, step.collect, guess["value"], guess["display"])
                await self._advance_and_run(ctx, frame, flow, step)
                return
            if no:
                ctx.say(self.text(flow, "guess_rejected"))
                await self._ask(ctx, frame, flow, step)
                return
            # Anything else is a fresh answer to the same question.

        if step.edits and payload and payload.startswith("edit:"):
            target = payload.removeprefix("edit:")
            if target in step.edits:
                frame.slots.pop(target, None)
                frame.shown.pop(target, None)
                if target in frame.skipped:
                    frame.skipped.remove(target)
                frame.return_to = step.id
                frame.step = flow.step_collecting(target).id
                await self._run(ctx)
                return

        if payload is None and await self._gather(ctx, frame, flow, step):
            return

        if (
            slot.append_to
            and payload is None
            and (normalise(ctx.text) in DONE_WORDS or intent == "deny")
        ):
            payload = "skip"  # "nee, dat was het": nothing to add
        offered_skip = any(b["payload"] == "skip" for b in ctx.state.offered)
        if payload is None and offered_skip and normalise(ctx.text) in SKIP_WORDS:
            payload = "skip"  # "sla over", typed instead of tapped
        if payload == "skip":  # offered for optional slots, and after two unclear answers
            if slot.unknown:
                unknown = unknown_answer(slot, "", self.text(flow, "unknown"))
                self._fill(ctx, frame, slot.name, unknown.value, unknown.display)
            else:
                frame.skipped.append(slot.name)
                frame.shown[slot.name] = self.text(flow, "skipped")
            await self._advance_and_run(ctx, frame, flow, step)
            return

        if slot.type == "files":
            await self._collect_files(ctx, frame, flow, step)
            return

        entity = ctx.parse.entity(slot.entity) if ctx.parse and slot.entity else None
        result = interpret(
            slot,
            ctx.text,
            payload=payload,
            intent=intent,
            entity=entity,
            now=ctx.now,
            unknown_display=self._unknown_display(flow, ctx.text),
        )
        if isinstance(result, Valid):
            frame.invalid = 0
            if result.confirm:
                frame.guess = {"value": result.value, "display": result.display}
                self._ask_guess(ctx, flow, frame)
                return
            self._fill(ctx, frame, slot.name, result.value, result.display)
            await self._advance_and_run(ctx, frame, flow, step)
            return
        await self._reject(ctx, frame, flow, step, result)

    def _unknown_display(self, flow: Flow, said: str) -> str:
        """How "weet ik niet" reads in a summary; other words said with it are kept."""
        rest = normalise(said)
        if not rest or is_unknown(rest) and len(rest.split()) <= 4:
            return self.text(flow, "unknown")
        return self.text(flow, "unknown_said", said=" ".join(said.split())[:80])

    async def _gather(self, ctx: Turn, frame: Frame, flow: Flow, step: Step) -> bool:
        """A message soon after a story's last part is another part of it (people type in bursts),
        unless it answers the question asked meanwhile. True when it was added."""
        assert step.collect is not None
        slot = flow.slots[step.collect]
        story = next(
            (s for s in flow.slots.values() if s.gather_seconds and s.name in frame.slots), None
        )
        last = frame.slots.get(f"{story.name}_at") if story else None
        if story is None or last is None or frame.return_to or ctx.has_files:
            return False
        if slot.append_to == story.name or not ctx.text:
            return False
        if ctx.now - datetime.fromisoformat(last) > timedelta(seconds=story.gather_seconds):
            return False
        if normalise(ctx.text) in DONE_WORDS or is_unknown(ctx.text):
            return False
        # Whatever is typed at an open question (a place, a note on the evidence) answers it.
        if slot.type in ("text", "files"):
            return False
        # A part of a story is a sentence; a short message answers the question ("gisteren").
        # A sentence that also answers it ("hij zei dat hij wist waar ik woon") is kept whole:
        # reading the story again fills the answer.
        words = len(ctx.text.split())
        if words < 4:
            return False
        if words < 8:
            fits = interpret(slot, ctx.text, payload=None, intent=None, entity=None, now=ctx.now)
            if isinstance(fits, Valid):
                return False
        if not self._append(ctx, frame, flow, story.name, ctx.text):
            return False
        extra = next(s for s in flow.slots.values() if s.append_to == story.name)
        frame.step = flow.after(flow.step_collecting(extra.name))
        frame.guess = None
        ctx.say(self.text(flow, "story_added"))
        await self._run(ctx)
        return True

    def _append(self, ctx: Turn, frame: Frame, flow: Flow, name: str, text: str) -> bool:
        """Add a part to a text slot; False (and a word why) when the whole would be too long."""
        added = " ".join(text.split())
        whole = f"{frame.slots.get(name, '')}\n{added}".strip()
        if len(whole) > flow.slots[name].max_length * 4:
            ctx.say(self.text(flow, "too_long"))
            return False
        frame.slots[name] = whole
        frame.shown[name] = whole
        frame.slots[f"{name}_at"] = ctx.now.isoformat()
        return True

    async def _collect_files(self, ctx: Turn, frame: Frame, flow: Flow, step: Step) -> None:
        assert step.collect is not None
        value = frame.slots.setdefault(step.collect, {"files": [], "notes": []})
        store = self.actions[flow.slots[step.collect].store or "store_evidence"]
        if ctx.has_files:
            await store(ctx, frame, flow)
            await self._ask(ctx, frame, flow, step, key="ask_more_files")
            return
        words = normalise(ctx.payload or ctx.text)
        if words in ("klaar", "done") or (
            not value["files"] and not value["notes"] and words in ("geen", "nee", "niets", "niks")
        ):
            count = len(value["files"])
            notes = len(value["notes"])
            shown = [
                self.catalog.count(flow, key, number)
                for key, number in (("count_files", count), ("count_notes", notes))
                if number
            ]
            frame.shown[step.collect] = ", ".join(shown) or self.text(flow, "none")
            frame.slots[step.collect] = value
            await self._advance_and_run(ctx, frame, flow, step)
            return
        if not ctx.text:
            await self._ask(ctx, frame, flow, step, key="ask_more_files")
            return
        if flow.slots[step.collect].store:
            await store(ctx, frame, flow)
        else:
            value["notes"].append(ctx.text[:500])
            ctx.say(self.text(flow, "note_saved"))
        await self._ask(ctx, frame, flow, step, key="ask_more_files")

    async def _reject(
        self, ctx: Turn, frame: Frame, flow: Flow, step: Step, result: Invalid
    ) -> None:
        assert step.collect is not None
        slot = flow.slots[step.collect]
        if result.reason.startswith("hint_"):
            ctx.say(self.text(flow, result.reason))
            return
        frame.invalid += 1
        if frame.invalid < 2:
            reason = result.reason if self._has_text(flow, result.reason) else "invalid_generic"
            ctx.say(self.text(flow, reason))
            await self._ask(ctx, frame, flow, step)
            return
        example = f"example_{slot.name}"
        text = (
            self.text(flow, example)
            if self._has_text(flow, example)
            else self.text(flow, "example_generic")
        )
        buttons = [b for b in self._buttons(flow, step) if b[1] != "skip"]
        text = self.text(flow, "still_invalid", example=text)
        if not step.ask_again:  # a confirmation (the summary) cannot be skipped
            buttons.append((self.text(flow, "button_skip"), "skip"))
            text += " " + self.text(flow, "skip_hint")
        buttons.append((self.text(flow, "button_stop"), "stop"))
        ctx.say(text, buttons)

    def _has_text(self, flow: Flow, key: str) -> bool:
        return key in flow.texts or key in self.catalog.texts

    def _fill(self, ctx: Turn, frame: Frame, slot: str, value: Any, display: str) -> None:
        spec = self.catalog.flows[frame.flow].slots.get(slot)
        if spec and spec.append_to:  # "Is er nog iets...?": the answer joins the story
            self._append(ctx, frame, self.catalog.flows[frame.flow], spec.append_to, str(value))
            value, display = True, ""
        elif spec and spec.gather_seconds:
            frame.slots[f"{slot}_at"] = ctx.now.isoformat()
        frame.slots[slot] = value
        frame.shown[slot] = display
        if slot in frame.skipped:
            frame.skipped.remove(slot)

    def _ask_guess(self, ctx: Turn, flow: Flow, frame: Frame) -> None:
        assert frame.guess is not None
        yes_no = (
            (self.text(flow, "button_yes"), "ja"),
            (self.text(flow, "button_no"), "nee"),
        )
        ctx.say(self.text(flow, "guess", value=frame.guess["display"]), yes_no)

    def _buttons(self, flow: Flow, step: Step) -> tuple[Choice, ...]:
        slot = flow.slots[step.collect] if step.collect else None
        options = slot.choices if slot and slot.type in ("choice", "yesno") else ()
        return tuple((c.label, c.value) for c in (*options, *step.buttons))

    async def _ask(
        self, ctx: Turn, frame: Frame, flow: Flow, step: Step, key: str | None = None
    ) -> None:
        if step.ask_action and key is None:
            await self.actions[step.ask_action](ctx, frame, flow)
            return
        assert step.collect is not None
        buttons = self._buttons(flow, step)
        slot = flow.slots[step.collect]
        if (
            slot.optional
            and slot.type == "text"
            and all(payload != "skip" for _, payload in buttons)
        ):
            buttons += ((self.text(flow, "button_skip"), "skip"),)
        ctx.say(self.text(flow, key or step.ask or f"ask_{step.collect}"), buttons)

    async def _advance_and_run(self, ctx: Turn, frame: Frame, flow: Flow, step: Step) -> None:
        self._advance(frame, flow, step)
        await self._run(ctx)

    def _advance(self, frame: Frame, flow: Flow, step: Step, target: str | None = None) -> None:
        frame.invalid = 0
        if target:
            frame.step = target
        elif frame.return_to and step.collect:
            frame.step, frame.return_to = frame.return_to, None
        else:
            branch = next(
                (b for b in step.next if b.condition is None or b.condition.holds(frame.slots)),
                None,
            )
            frame.step = branch.target if branch else flow.after(step)

    async def _run(self, ctx: Turn) -> None:
        """Execute steps until one waits for the reporter or every flow has ended."""
        for _ in range(MAX_STEPS_PER_TURN):
            if not ctx.state.stack:
                return
            frame = ctx.state.stack[-1]
            flow = self.catalog.flows[frame.flow]
            if frame.step == END:
                ctx.state.stack.pop()
                if ctx.state.stack:
                    await self.reask(ctx, prefix_key="resume")
                return
            step = flow.step(frame.step)
            if step.collect:
                filled = step.collect in frame.slots or step.collect in frame.skipped
                if filled and not step.ask_again:
                    self._advance(frame, flow, step)
                    continue
                await self._ask(ctx, frame, flow, step)
                return
            if step.say:
                ctx.say(self.text(flow, step.say, **frame.shown), self._buttons(flow, step))
                self._advance(frame, flow, step)
            elif step.action:
                target = await self.actions[step.action](ctx, frame, flow)
                if ctx.state.stack and ctx.state.stack[-1] is frame:
                    self._advance(frame, flow, step, target)
                else:
                    return  # the action replaced or dropped the flow
            elif step.link:
                ctx.state.stack.pop()
                await self.start(ctx, step.link)
                return
        raise RuntimeError(f"flow {ctx.state.stack[-1].flow} does not stop asking")
