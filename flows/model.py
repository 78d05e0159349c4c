"""Flows as typed data: loaded from flows/*.yml and checked before anything runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FLOWS_DIR = Path(__file__).resolve().parent
END = "end"
SLOT_TYPES = ("text", "choice", "yesno", "when", "files", "phone")


class FlowError(ValueError):
    """A flow file is wrong; the message names the flow and step."""


@dataclass(frozen=True)
class Choice:
    """One option of a choice slot; also matched by its synonyms when typed."""

    value: str
    label: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Slot:
    """Something a flow collects."""

    name: str
    type: str
    choices: tuple[Choice, ...] = ()
    optional: bool = False
    max_length: int = 500
    min_words: int = 1
    entity: str | None = None  # NLU entity that may fill this slot
    # "Weet ik niet" is an answer: the choice it stands for, or True (time, place: unknown).
    unknown: str | bool | None = None
    append_to: str | None = None  # a text slot this one adds to ("Is er nog iets...?")
    gather_seconds: int = (
        0  # messages this soon after the last one add to it (a story told in parts)
    )
    store: str | None = None  # files: the action that keeps each file and note as it comes

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Condition:
    """`if` of a `next` branch: a test on one slot."""

    slot: str
    equals: str | bool | None = None
    one_of: tuple[str, ...] = ()
    filled: bool | None = None

    def holds(self, slots: dict[str, Any]) -> bool:
        value = slots.get(self.slot)
        if self.filled is not None:
            return (value not in (None, "", [])) == self.filled
        if self.one_of:
            return value in self.one_of
        return bool(value == self.equals)


@dataclass(frozen=True)
class Branch:
    target: str
    condition: Condition | None = None  # None: else


@dataclass(frozen=True)
class Step:
    """One step: collect a slot, say a text, run an action, or link to another flow."""

    id: str
    collect: str | None = None
    say: str | None = None
    action: str | None = None
    link: str | None = None
    ask: str | None = None  # text key of the question
    ask_action: str | None = None  # action that renders the question instead
    edits: tuple[str, ...] = ()  # slots the reporter may change from this step
    ask_again: bool = False  # ask even when the slot is already filled
    buttons: tuple[Choice, ...] = ()  # extra buttons shown with the question
    next: tuple[Branch, ...] = ()


@dataclass(frozen=True)
class Flow:
    """A guided conversation."""

    name: str
    description: str
    slots: dict[str, Slot]
    steps: tuple[Step, ...]
    texts: dict[str, str]
    digression: bool = False  # may interrupt another flow and hand back to it

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def after(self, step: Step) -> str:
        """The step that follows in file order, or END."""
        index = self.steps.index(step)
        return self.steps[index + 1].id if index + 1 < len(self.steps) else END

    def step_collecting(self, slot: str) -> Step:
        return next(s for s in self.steps if s.collect == slot)


@dataclass
class Catalog:
    """Every flow plus the shared texts and choice lists."""

    flows: dict[str, Flow]
    texts: dict[str, str]
    choices: dict[str, tuple[Choice, ...]] = field(default_factory=dict)

    def text(self, flow: Flow | None, key: str, **values: Any) -> str:
        """A text of this flow (or a shared one) with its placeholders filled in."""
        template = (flow.texts.get(key) if flow else None) or self.texts.get(key)
        if template is None:
            raise KeyError(key)
        return template.format(**values) if values else template

    def count(self, flow: Flow | None, key: str, number: int) -> str:
        """A counted noun in Dutch: `{key}_one` for one, `{key}_many` with the number otherwise."""
        return self.text(flow, f"{key}_one" if number == 1 else f"{key}_many", n=number)


def _choices(raw: Any, where: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        raise FlowError(f"{where}: choices must be a non-empty list")
    result = []
    for item in raw:
        if not isinstance(item, dict) or "value" not in item or "label" not in item:
            raise FlowError(f"{where}: every choice needs a value and a label")
        if unknown := set(item) - {"value", "label", "synonyms"}:
            # Often an unquoted comma in a label: `label: Klopt, versturen`.
            raise FlowError(f"{where}: choice {item['value']!r} has unknown keys {sorted(unknown)}")
        synonyms = item.get("synonyms", [])
        if not all(isinstance(s, str) for s in synonyms):
            # YAML reads a bare yes/no/on/off as true/false: such words must be quoted.
            raise FlowError(
                f"{where}: synonyms of {item['value']!r} must be text (quote yes/no words)"
            )
        result.append(Choice(str(item["value"]), str(item["label"]), tuple(synonyms)))
    return tuple(result)


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict) or "slot" not in raw:
        raise FlowError(f"{where}: `if` needs a slot")
    known = {"slot", "equals", "in", "filled"}
    if set(raw) - known or len(raw) != 2:
        raise FlowError(f"{where}: `if` takes slot plus one of equals, in, filled")
    return Condition(
        slot=raw["slot"],
        equals=raw.get("equals"),
        one_of=tuple(str(v) for v in raw.get("in", ())),
        filled=raw.get("filled"),
    )


def _next(raw: Any, where: str) -> tuple[Branch, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (Branch(raw),)
    if not isinstance(raw, list):
        raise FlowError(f"{where}: next must be a step id or a list of branches")
    branches = []
    for item in raw:
        if isinstance(item, dict) and "else" in item:
            branches.append(Branch(str(item["else"])))
        elif isinstance(item, dict) and "if" in item and "then" in item:
            branches.append(Branch(str(item["then"]), _condition(item["if"], where)))
        else:
            raise FlowError(f"{where}: a branch is `if: ... then: STEP` or `else: STEP`")
    return tuple(branches)


_STEP_KEYS = {
    "id",
    "collect",
    "say",
    "action",
    "link",
    "ask",
    "ask_action",
    "edits",
    "ask_again",
    "buttons",
    "next",
}


def _step(raw: Any, flow: str, index: int) -> Step:
    where = f"flow {flow}, step {index + 1}"
    if not isinstance(raw, dict):
        raise FlowError(f"{where}: a step must be a mapping")
    where = f"flow {flow}, step {raw.get('id', index + 1)}"
    if unknown := set(raw) - _STEP_KEYS:
        raise FlowError(f"{where}: unknown keys {sorted(unknown)}")
    kinds = [k for k in ("collect", "say", "action", "link") if k in raw]
    if len(kinds) != 1:
        raise FlowError(f"{where}: a step does exactly one of collect, say, action, link")
    return Step(
        id=str(raw.get("id") or raw[kinds[0]]),
        collect=raw.get("collect"),
        say=raw.get("say"),
        action=raw.get("action"),
        link=raw.get("link"),
        ask=raw.get("ask"),
        ask_action=raw.get("ask_action"),
        edits=tuple(raw.get("edits", ())),
        ask_again=bool(raw.get("ask_again", False)),
        buttons=_choices(raw["buttons"], where) if "buttons" in raw else (),
        next=_next(raw.get("next"), where),
    )


def _slot(name: str, raw: Any, flow: str, choices: dict[str, tuple[Choice, ...]]) -> Slot:
    where = f"flow {flow}, slot {name}"
    if not isinstance(raw, dict) or raw.get("type") not in SLOT_TYPES:
        raise FlowError(f"{where}: type must be one of {', '.join(SLOT_TYPES)}")
    options: tuple[Choice, ...] = ()
    if raw["type"] == "choice":
        source = raw.get("choices")
        if isinstance(source, str):
            if source not in choices:
                raise FlowError(f"{where}: unknown choice list {source!r}")
            options = choices[source]
        else:
            options = _choices(source, where)
    elif raw["type"] == "yesno":
        options = choices["yesno"]
    return Slot(
        name=name,
        type=raw["type"],
        choices=options,
        optional=bool(raw.get("optional", False)),
        max_length=int(raw.get("max_length", 500)),
        min_words=int(raw.get("min_words", 1)),
        entity=raw.get("entity"),
        unknown=raw.get("unknown"),
        append_to=raw.get("append_to"),
        gather_seconds=int(raw.get("gather_seconds", 0)),
        store=raw.get("store"),
    )


def _flow(raw: Any, path: Path, choices: dict[str, tuple[Choice, ...]]) -> Flow:
    if not isinstance(raw, dict) or "name" not in raw or "steps" not in raw:
        raise FlowError(f"{path.name}: a flow file needs name and steps")
    name = str(raw["name"])
    slots = {k: _slot(k, v, name, choices) for k, v in (raw.get("slots") or {}).items()}
    steps = tuple(_step(s, name, i) for i, s in enumerate(raw["steps"]))
    return Flow(
        name=name,
        description=str(raw.get("description", "")),
        slots=slots,
        steps=steps,
        texts={str(k): str(v) for k, v in (raw.get("texts") or {}).items()},
        digression=bool(raw.get("digression", False)),
    )


def validate(
    catalog: Catalog,
    actions: Iterable[str] | None,
    intents: Iterable[str],
    entities: Iterable[str] = ("incident_type", "platform", "role", "topic"),
) -> None:
    """Check every reference in every flow; raise FlowError naming the flow and step.

    With actions None the action names are not checked (the application registers them).
    """
    known = None if actions is None else set(actions)
    intents, entities = set(intents), set(entities)
    for flow in catalog.flows.values():
        if flow.name not in intents and not flow.name.startswith("_"):
            raise FlowError(f"flow {flow.name}: no intent of that name starts it")
        ids = [s.id for s in flow.steps]
        if len(set(ids)) != len(ids):
            raise FlowError(f"flow {flow.name}: step ids are not unique")
        for slot in flow.slots.values():
            where = f"flow {flow.name}, slot {slot.name}"
            if slot.entity and slot.entity not in entities:
                raise FlowError(f"{where}: unknown entity {slot.entity!r}")
            if isinstance(slot.unknown, str) and not slot.choice(slot.unknown):
                raise FlowError(f"{where}: unknown answer {slot.unknown!r} is not a choice")
            if slot.append_to and (
                slot.append_to not in flow.slots or flow.slots[slot.append_to].type != "text"
            ):
                raise FlowError(f"{where}: appends to {slot.append_to!r}, not a text slot")
            if slot.store and known is not None and slot.store not in known:
                raise FlowError(f"{where}: unknown action {slot.store!r}")

        def has_text(key: str, flow: Flow = flow) -> bool:
            return key in flow.texts or key in catalog.texts

        for step in flow.steps:
            where = f"flow {flow.name}, step {step.id}"
            if step.collect:
                if step.collect not in flow.slots:
                    raise FlowError(f"{where}: unknown slot {step.collect!r}")
                if not step.ask_action and not has_text(step.ask or f"ask_{step.collect}"):
                    raise FlowError(
                        f"{where}: no question text {step.ask or 'ask_' + step.collect!r}"
                    )
            if step.say and not has_text(step.say):
                raise FlowError(f"{where}: unknown text {step.say!r}")
            for name in (step.action, step.ask_action):
                if name and known is not None and name not in known:
                    raise FlowError(f"{where}: unknown action {name!r}")
            if step.link and step.link not in catalog.flows:
                raise FlowError(f"{where}: links to unknown flow {step.link!r}")
            for edited in step.edits:
                if edited not in flow.slots or not any(s.collect == edited for s in flow.steps):
                    raise FlowError(f"{where}: cannot edit {edited!r}, no step collects it")
            for branch in step.next:
                if branch.target != END and branch.target not in ids:
                    raise FlowError(f"{where}: next goes to unknown step {branch.target!r}")
                if branch.condition and branch.condition.slot not in flow.slots:
                    raise FlowError(f"{where}: condition on unknown slot {branch.condition.slot!r}")
            if step.next and step.next[-1].condition is not None:
                raise FlowError(f"{where}: the last branch of next must be an else")


def load_catalog(directory: Path = FLOWS_DIR) -> Catalog:
    """Read flows/*.yml (common.yml holds shared texts and choice lists)."""
    common_path = directory / "common.yml"
    try:
        common = yaml.safe_load(common_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise FlowError(f"{common_path.name}: cannot be read ({error})") from None
    choices = {
        k: _choices(v, f"common.yml, choices {k}") for k, v in common.get("choices", {}).items()
    }
    flows: dict[str, Flow] = {}
    for path in sorted(directory.glob("*.yml")):
        if path == common_path:
            continue
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise FlowError(f"{path.name}: not valid YAML ({error})") from None
        flow = _flow(raw, path, choices)
        if flow.name in flows:
            raise FlowError(f"{path.name}: a second flow named {flow.name!r}")
        flows[flow.name] = flow
    return Catalog(flows, {str(k): str(v) for k, v in common.get("texts", {}).items()}, choices)
