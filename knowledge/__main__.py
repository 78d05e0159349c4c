"""Command line: search the knowledge base, show an entry, or check the content."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from knowledge.base import Knowledge
from knowledge.model import KINDS, ROLES, TOPICS, KnowledgeError
from knowledge.render import render, render_more


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    parser.add_argument("--root", type=Path, help="content folder (default: the package)")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="rank entries for a question")
    search.add_argument("query")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.add_argument("--kind", choices=KINDS)
    search.add_argument("--role", choices=ROLES)
    search.add_argument("--topic", choices=TOPICS)
    search.add_argument("--limit", type=int, default=3)
    show = commands.add_parser("show", help="print an entry as the chat shows it")
    show.add_argument("id")
    show.add_argument("--role", choices=ROLES, help="the answer as someone in this role sees it")
    commands.add_parser("check", help="check all content; exit 1 on problems")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        knowledge = Knowledge.load(args.root)
    except KnowledgeError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 1
    if args.command == "check":
        protocols, training = (len(knowledge.entries(kind)) for kind in KINDS)
        print(f"ok: {protocols} protocols, {training} training offers")
        return 0
    if args.command == "show":
        entry = knowledge.get(args.id)
        if entry is None:
            print(f"no entry {args.id!r}", file=sys.stderr)
            return 1
        print(render(entry, role=args.role))
        if entry.has_more:
            print(f"\n[Meer uitleg]\n{render_more(entry)}")
        return 0
    if args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return 2
    hits = knowledge.search(
        args.query, kind=args.kind, topic=args.topic, role=args.role, limit=args.limit
    )
    if args.json:
        results = [
            {"id": hit.entry.id, "score": round(hit.score, 4), "title": hit.entry.title}
            for hit in hits
        ]
        print(json.dumps({"query": args.query, "results": results}, ensure_ascii=False))
    else:
        for hit in hits:
            print(f"{hit.score:7.3f}  {hit.entry.id}  {hit.entry.title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
