"""Command line: `python -m bot chat | cases | jobs | run | stats | deadletters | ...`.

Each command imports what it needs inside its function: `python -m bot keys new` or a bad setting
answers at once, without loading the NLU, the chat platforms' SDKs or the whole application.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

from bot.base.settings import Settings, SettingsError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Weerbaar support assistant")
    commands = parser.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--json", action="store_true", help="one input per line, JSON lines out")
    chat.add_argument("--user", default="lokaal", help="conversation id (default: lokaal)")
    cases = commands.add_parser("cases", help="look at and work on cases")
    case_commands = cases.add_subparsers(dest="action", required=True)
    listing = case_commands.add_parser("list")
    listing.add_argument("--json", action="store_true")
    show = case_commands.add_parser("show")
    show.add_argument("ref")
    show.add_argument("--json", action="store_true")
    ack = case_commands.add_parser("ack", help="acknowledge and take ownership")
    ack.add_argument("ref")
    ack.add_argument("--by", default="Lokale medewerker")
    close = case_commands.add_parser("close")
    close.add_argument("ref")
    close.add_argument("--by", default="Lokale medewerker")
    close.add_argument("--reason", default="afgehandeld")
    dossier = case_commands.add_parser("dossier", help="the aangifte dossier (PDF, or ZIP package)")
    dossier.add_argument("ref")
    dossier.add_argument("--out", required=True, help="FILE.pdf, or FILE.zip for the package")
    dossier.add_argument("--by", default="Lokale medewerker")
    jobs = commands.add_parser("jobs", help="scheduled jobs")
    jobs.add_argument("action", choices=["list"])
    jobs.add_argument("--json", action="store_true")
    commands.add_parser("run", help="start the configured channels")
    invites = commands.add_parser("invites", help="verification invites for office holders")
    invite_commands = invites.add_subparsers(dest="action", required=True)
    create = invite_commands.add_parser("create", help="a single-use invite (shown once)")
    create.add_argument("--role", required=True)
    create.add_argument("--municipality", required=True)
    create.add_argument("--hours", type=int, default=72)
    create.add_argument("--by", default="Beheerder", help="who made it, for the record")
    create.add_argument("--json", action="store_true")
    invite_list = invite_commands.add_parser("list")
    invite_list.add_argument("--json", action="store_true")
    revoke = invite_commands.add_parser("revoke")
    revoke.add_argument("id", type=int)
    dead = commands.add_parser("deadletters", help="updates set aside after failing on their own")
    dead_commands = dead.add_subparsers(dest="action", required=True)
    dead_list = dead_commands.add_parser("list", help="number, state and error; no content")
    dead_list.add_argument("--json", action="store_true")
    dead_retry = dead_commands.add_parser("retry", help="have the running bot handle it again")
    dead_retry.add_argument("id", type=int, nargs="?")
    dead_retry.add_argument("--all", action="store_true")
    keys = commands.add_parser("keys", help="encryption keys (WEERBAAR_ENCRYPTION_KEYS)")
    keys.add_argument("action", choices=["new", "rotate", "check"])
    retention = commands.add_parser("retention", help="remove what has been kept long enough")
    retention.add_argument("action", choices=["run"])
    retention.add_argument("--json", action="store_true")
    stats = commands.add_parser("stats", help="anonymised figures and the team's service level")
    shape = stats.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true")
    shape.add_argument("--csv", action="store_true", help="monthly figures for the Monitor")
    stats.add_argument("--from", dest="first", metavar="YYYY-MM", help="first month")
    stats.add_argument("--to", dest="last", metavar="YYYY-MM", help="last month (default: now)")
    return parser


async def _stats(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from bot.base.clock import SystemClock
    from bot.features.insights import stats
    from bot.store import open_store

    try:
        period = stats.Period.between(args.first, args.last, SystemClock().now())
    except stats.PeriodError as error:
        print(error, file=sys.stderr)
        return 2
    store = await open_store(settings.database_url)
    try:
        found = await stats.report(store, period, settings.support_response_minutes)
    finally:
        await store.close()
    if args.csv:
        sys.stdout.write(found.as_csv())
    elif args.json:
        print(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
    else:
        print(found.as_text())
    return 0


def _print(data: Any, as_json: bool) -> None:
    from bot.admin import print_data

    print_data(data, as_json)


async def _cases(settings: Settings, args: argparse.Namespace) -> int:
    from bot.features.support import cases
    from bot.store import open_store

    store = await open_store(settings.database_url)
    try:
        if args.action == "list":
            async with store.session() as session:
                rows = [cases.case_row(c) for c in await store.cases(session)]
            _print(rows, args.json)
            return 0
        if args.action == "show":
            async with store.session() as session:
                case = await store.case_by_ref(session, args.ref)
                if case is None:
                    print(f"Geen melding met nummer {args.ref}.", file=sys.stderr)
                    return 1
                _print(cases.case_json(case), args.json)
            return 0
        if args.action == "dossier":
            return await _dossier(store, args)
        try:
            if args.action == "ack":
                case = await cases.acknowledge(store, args.ref, args.by)
            else:
                case = await cases.close(store, args.ref, args.by, args.reason)
        except cases.CaseNotFound:
            print(f"Geen melding met nummer {args.ref}.", file=sys.stderr)
            return 1
        print(f"{case.ref}: {case.status}")
        return 0
    finally:
        await store.close()


async def _dossier(store: Any, args: argparse.Namespace) -> int:
    """Write one case's dossier to --out; nothing else is written anywhere."""
    from pathlib import Path

    from bot.features import dossier

    try:
        made = await dossier.for_operator(store, args.ref, Path(args.out), args.by)
    except dossier.DossierUnavailable:
        print(f"Van melding {args.ref} is de inhoud gewist; er is geen dossier.", file=sys.stderr)
        return 1
    except LookupError:
        print(f"Geen melding met nummer {args.ref}.", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Kan {args.out} niet schrijven: {error.strerror}.", file=sys.stderr)
        return 1
    print(f"{made.name}: {len(made.data)} bytes in {args.out}")
    return 0


async def _main(args: argparse.Namespace) -> int:
    from bot.base import crypto

    if args.command == "keys" and args.action == "new":
        print(crypto.new_key())
        return 0
    settings = Settings.from_env()
    crypto.use(settings.encryption_keys)
    if args.command == "cases":
        return await _cases(settings, args)
    if args.command in ("invites", "keys", "retention", "deadletters"):
        from bot import admin

        return await admin.run(settings, args)
    if args.command == "stats":
        return await _stats(settings, args)
    if args.command == "jobs":
        from bot.jobs.scheduler import list_jobs

        _print(await list_jobs(settings), args.json)
        return 0

    from bot.app import build_app, configure_logging

    configure_logging(settings)
    if crypto.active() is None:
        logging.getLogger("weerbaar.crypto").warning(
            "%s is not set: stories and evidence are stored unencrypted (local use only)",
            crypto.ENV,
        )
    app = await build_app(settings)
    try:
        await _check_keys(app)
        if args.command == "chat":
            from bot.channels.local import console_chat, json_chat

            if args.json:
                await json_chat(app, args.user, sys.stdin.buffer, print)
            else:
                await console_chat(app, args.user)
            return 0
        from bot.run import run

        await run(app)
        return 0
    finally:
        await app.close()


async def _check_keys(app: Any) -> None:
    """Refuse to start when stored data is sealed with a key that is no longer configured."""
    from bot.admin import check_keys
    from bot.app import StartupError
    from bot.base import crypto

    try:
        await check_keys(app.store)
    except crypto.KeyMissing as missing:
        raise StartupError(f"{crypto.ENV}: {missing}") from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        from bot.app import StartupError

        if isinstance(error, StartupError):
            print(f"Cannot start: {error}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
