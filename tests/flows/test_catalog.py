"""Every flow loads and is valid; broken flows are refused with the flow and step named."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import catalog
from flows.__main__ import diagram, main
from flows.model import FLOWS_DIR, FlowError, load_catalog, validate
from nlu import INTENTS
from tests.flows.turn import action_names


def test_every_flow_loads_and_validates() -> None:
    flows = catalog().flows
    assert {
        "report_incident",
        "request_support",
        "find_protocol",
        "find_training",
        "case_status",
    } <= set(flows)


def _broken(tmp_path: Path, flow_yaml: str) -> Path:
    (tmp_path / "common.yml").write_text(
        (FLOWS_DIR / "common.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "broken.yml").write_text(flow_yaml, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("flow_yaml", "message"),
    [
        (
            "name: report_incident\nsteps:\n  - id: a\n    collect: nothing\n",
            "flow report_incident, step a: unknown slot 'nothing'",
        ),
        (
            "name: report_incident\nsteps:\n  - id: a\n    action: no_such_action\n",
            "flow report_incident, step a: unknown action 'no_such_action'",
        ),
        (
            "name: report_incident\nsteps:\n  - id: a\n    say: welcome\n    next: nowhere\n",
            "flow report_incident, step a: next goes to unknown step 'nowhere'",
        ),
        (
            "name: report_incident\nsteps:\n  - id: a\n    link: no_flow\n",
            "flow report_incident, step a: links to unknown flow 'no_flow'",
        ),
        (
            "name: not_an_intent\nsteps:\n  - id: a\n    say: welcome\n",
            "flow not_an_intent: no intent of that name starts it",
        ),
        (
            "name: report_incident\nsteps:\n  - id: a\n    say: no_such_text\n",
            "flow report_incident, step a: unknown text 'no_such_text'",
        ),
        (
            "name: report_incident\nsteps:\n  - id: a\n    say: welcome\n    action: summary\n",
            "flow report_incident, step a: a step does exactly one",
        ),
        (
            "name: report_incident\nslots:\n  x: {type: yesno}\nsteps:\n  - id: a\n    collect: x\n    ask: welcome\n"
            "    next:\n      - if: {slot: x, equals: ja}\n        then: end\n",
            "the last branch of next must be an else",
        ),
        (
            "name: report_incident\nslots:\n  x: {type: choice, choices: yesno, unknown: misschien}\n"
            "steps: []\n",
            "flow report_incident, slot x: unknown answer 'misschien' is not a choice",
        ),
        (
            "name: report_incident\nslots:\n  x: {type: text, append_to: story}\nsteps: []\n",
            "flow report_incident, slot x: appends to 'story', not a text slot",
        ),
        (
            "name: report_incident\nslots:\n  x: {type: files, store: no_such_action}\nsteps: []\n",
            "flow report_incident, slot x: unknown action 'no_such_action'",
        ),
        (
            "name: report_incident\nslots:\n  x: {type: colour}\nsteps: []\n",
            "flow report_incident, slot x: type must be one of",
        ),
    ],
)
def test_broken_flows_are_refused_naming_flow_and_step(
    tmp_path: Path, flow_yaml: str, message: str
) -> None:
    with pytest.raises(FlowError) as refused:
        validate(load_catalog(_broken(tmp_path, flow_yaml)), action_names(catalog()), INTENTS)
    assert message in str(refused.value)


def test_diagram_is_mermaid_with_every_step() -> None:
    flow = catalog().flows["report_incident"]
    text = diagram(flow)
    assert text.startswith("flowchart TD")
    for step in flow.steps:
        assert step.id in text
    assert '-- "aangifte in nee/weet_niet/van_plan" --> aangifte_advice' in text


def test_diagram_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "request_support"]) == 0
    assert "flowchart TD" in capsys.readouterr().out
    assert main(["diagram", "nope"]) == 2
