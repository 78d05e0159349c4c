"""Command line: python -m nlu train | parse "tekst" | evaluate FILE.yml [--json] [--by-source]
| serve [--host H] [--port P].

Rasa lives in its own environment (.venv-nlu): from the bot's environment every command runs
there, with the same arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.util
import json
import os
import sys
from pathlib import Path

from nlu import NLU, NLUUnavailable
from nlu.evaluation import LAYERS, evaluate
from nlu.service import load_nlu
from nlu.training import ensure_model, nlu_python, read_nlu_data


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m nlu", description="Weerbaar NLU")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train the model unless it is up to date")
    train.add_argument("--force", action="store_true", help="train even when up to date")
    parse = commands.add_parser("parse", help="parse one message, print JSON")
    parse.add_argument("text")
    evaluate = commands.add_parser("evaluate", help="score a Rasa-format NLU file")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.add_argument(
        "--by-source", action="store_true", help="also say which layer put 112 first"
    )
    for command in (parse, evaluate):
        command.add_argument("--remote", metavar="URL", help="use a Rasa server instead")
        command.add_argument("--token", help="the server's auth token (default: $NLU_TOKEN)")
    data = commands.add_parser("data", help="Rasa's reading of NLU files, as JSON")
    data.add_argument("paths", nargs="+", type=Path)
    serve = commands.add_parser("serve", help="serve POST /model/parse (token in $NLU_TOKEN)")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 (loopback)")
    serve.add_argument("--port", type=int, default=5005, help="0: any free port")
    serve.add_argument("--exit-with-stdin", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def _nlu(remote: str | None, token: str | None) -> NLU:
    """The remote NLU, or the local model (trained first when data or config changed)."""
    if remote:
        return await load_nlu(remote_url=remote, token=token or os.environ.get("NLU_TOKEN"))
    if importlib.util.find_spec("rasa") is None:  # the bot's environment: our NLU service
        return await load_nlu()
    _, trained = ensure_model()
    if trained:
        print("NLU-model getraind.", file=sys.stderr)
    return await load_nlu()


def _table(report: dict) -> str:
    """Human-readable evaluation report."""
    lines = [f"{'intent':<16} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}"]
    for intent, row in report["per_intent"].items():
        lines.append(
            f"{intent:<16} {row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1']:>6.3f} "
            f"{row['support']:>4}"
        )
    lines.append(f"accuracy {report['accuracy']:.3f}  macro-F1 {report['macro_f1']:.3f}")
    if "by_source" in report:
        sources = report["by_source"]
        lines.append(f"\n112 first, by layer {'':<6} " + " ".join(f"{n:>10}" for n in LAYERS))
        for kind in ("emergency", "other"):
            row = sources[kind]
            counts = " ".join(f"{row[name]:>10}" for name in LAYERS)
            lines.append(f"{kind:<16} n={row['support']:<6} {counts}")
        lines.extend(f"missed: {text}" for text in sources["missed"])
    return "\n".join(lines)


async def _run(args: argparse.Namespace) -> int:
    if args.command == "data":
        found = [dataclasses.asdict(item) for item in read_nlu_data(*args.paths)]
        print(json.dumps(found, ensure_ascii=False))
        return 0
    if args.command == "train":
        path, trained = ensure_model(force=args.force)
        print(f"{'getraind' if trained else 'al actueel'}: {path}")
        return 0
    nlu = await _nlu(args.remote, args.token)
    try:
        if args.command == "parse":
            print(json.dumps(dataclasses.asdict(await nlu.parse(args.text)), ensure_ascii=False))
            return 0
        if not args.file.exists():
            print(f"Bestand niet gevonden / file not found: {args.file}", file=sys.stderr)
            return 2
        report = await evaluate(nlu, args.file, sources=args.by_source)
        print(json.dumps(report, ensure_ascii=False) if args.json else _table(report))
        return 0
    finally:
        await nlu.aclose()


def _serve(args: argparse.Namespace) -> int:
    from nlu.server import serve  # aiohttp's server, only when serving

    token = os.environ.get("NLU_TOKEN")
    if not token:
        print("NLU_TOKEN ontbreekt / is not set: the service needs a token.", file=sys.stderr)
        return 2
    path, _ = ensure_model()
    serve(path, args.host, args.port, token, with_stdin=args.exit_with_stdin)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; a model or server that cannot be used ends with one clear line."""
    args = _arguments(argv)
    if args.command == "serve" and importlib.util.find_spec("rasa") is None:
        try:
            python = str(nlu_python())
        except NLUUnavailable as exc:
            print(exc, file=sys.stderr)
            return 1
        os.execv(python, [python, "-m", "nlu", *(sys.argv[1:] if argv is None else argv)])
    if args.command == "serve":
        return _serve(args)
    try:
        return asyncio.run(_run(args))
    except NLUUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
