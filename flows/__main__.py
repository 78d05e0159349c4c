"""`python -m flows diagram NAME` prints a Mermaid diagram; `python -m flows check` validates."""

from __future__ import annotations

import argparse
import sys

from flows import FlowError, catalog
from flows.model import END, Flow


def diagram(flow: Flow) -> str:
    """A Mermaid flowchart of one flow."""
    lines = ["flowchart TD", f"    start([{flow.name}]) --> {flow.steps[0].id}"]
    for step in flow.steps:
        if step.collect:
            lines.append(f'    {step.id}[/"vraag: {step.collect}"/]')
        elif step.say:
            lines.append(f'    {step.id}["zeg: {step.say}"]')
        elif step.action:
            lines.append(f'    {step.id}[["actie: {step.action}"]]')
        elif step.link:
            lines.append(f'    {step.id}>"naar flow: {step.link}"]')
        for edit in step.edits:
            lines.append(f"    {step.id} -. wijzig .-> {flow.step_collecting(edit).id}")
        branches = step.next or ()
        if not branches:
            target = flow.after(step)
            lines.append(f"    {step.id} --> {target}")
        for branch in branches:
            if branch.condition is None:
                lines.append(f"    {step.id} --> {branch.target}")
            else:
                c = branch.condition
                test = (
                    f"{c.slot} in {'/'.join(c.one_of)}"
                    if c.one_of
                    else f"{c.slot} ingevuld"
                    if c.filled
                    else f"{c.slot} = {c.equals}"
                )
                lines.append(f'    {step.id} -- "{test}" --> {branch.target}')
    lines.append(f"    {END}([einde])")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows")
    commands = parser.add_subparsers(dest="command", required=True)
    draw = commands.add_parser("diagram", help="print a Mermaid diagram of a flow")
    draw.add_argument("name")
    commands.add_parser("check", help="load and validate every flow")
    args = parser.parse_args(argv)
    try:
        flows = catalog().flows
    except FlowError as error:
        print(f"flows: {error}", file=sys.stderr)
        return 1
    if args.command == "check":
        print(f"{len(flows)} flows OK: {', '.join(sorted(flows))}")
        return 0
    if args.name not in flows:
        print(
            f"flows: unknown flow {args.name!r}; known: {', '.join(sorted(flows))}", file=sys.stderr
        )
        return 2
    print(diagram(flows[args.name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
