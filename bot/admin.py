"""Operator commands: verification invites, encryption keys, and the retention purge."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from bot.base import crypto
from bot.base.settings import Settings
from bot.features import invites, privacy
from bot.store import Store, deadletters, open_store
from bot.store.models import Base

PAGE = 200
BYTES_PAGE = 10  # evidence files can be 20 MB each


def sealed_columns() -> Iterator[tuple[str, str, str, Any]]:
    """(table, primary key, column, stored type) for every column that holds sealed values."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, crypto.SEALED_TYPES):
                (key,) = table.primary_key.columns
                yield table.name, key.name, column.name, column.type.impl


def _raw(table: str, key: str, column: str, stored: Any) -> Any:
    """The table with the column as stored (no sealing or opening on the way)."""
    return sa.table(table, sa.column(key), sa.column(column, stored))


async def reseal_all(store: Store) -> dict[str, int]:
    """Seal every stored value with the first key (plain ones too); counts per column."""
    if crypto.active() is None:
        raise crypto.KeyMissing(f"set {crypto.ENV} first")
    counts: dict[str, int] = {}
    for name, key, column, stored in sealed_columns():
        raw = _raw(name, key, column, stored)
        page = BYTES_PAGE if isinstance(stored, sa.LargeBinary) else PAGE
        last: Any = None
        done = 0
        while True:
            async with store.session() as session:
                # Locked until this page is written back, so a turn that changes a row waits.
                query = (
                    sa.select(raw.c[key], raw.c[column])
                    .order_by(raw.c[key])
                    .limit(page)
                    .with_for_update()
                )
                if last is not None:
                    query = query.where(raw.c[key] > last)
                rows = (await session.execute(query)).all()
                for row_key, value in rows:
                    if value is not None:
                        await session.execute(
                            raw.update()
                            .where(raw.c[key] == row_key)
                            .values({column: crypto.reseal(value)})
                        )
                        done += 1
            if len(rows) < page:
                break
            last = rows[-1][0]
        counts[f"{name}.{column}"] = done
    return counts


async def check_keys(store: Store, sample: int = 5) -> int:
    """Open the newest sealed values of each column; raises KeyMissing when a key is missing."""
    opened = 0
    async with store.session() as session:
        for name, key, column, stored in sealed_columns():
            raw = _raw(name, key, column, stored)
            rows = await session.execute(
                sa.select(raw.c[column])
                .where(raw.c[column].isnot(None))
                .order_by(raw.c[key].desc())
                .limit(sample)
            )
            for (value,) in rows:
                if crypto.is_sealed(value):
                    _open(value)
                    opened += 1
    return opened


def _open(value: Any) -> None:
    if isinstance(value, str):
        crypto.open_text(value)
    elif isinstance(value, (bytes, memoryview)):
        crypto.open_bytes(bytes(value))
    else:
        crypto.open_json(value)


def print_data(data: Any, as_json: bool) -> None:
    """Command output: one JSON value, or readable lines."""
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
    elif isinstance(data, list):
        for row in data:
            print("  ".join(str(v) for v in row.values()))
    else:
        for key, value in data.items():
            print(f"{key}: {value}")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """`invites`, `keys`, `retention run` and `deadletters` on the configured database."""
    store = await open_store(settings.database_url)
    try:
        if args.command == "invites":
            return await _invites(store, settings, args)
        if args.command == "deadletters":
            return await _dead_letters(store, args)
        if args.command == "keys":
            if args.action == "rotate":
                print_data(await reseal_all(store), as_json=False)
            else:
                print(f"{await check_keys(store)} sealed values opened; the keys fit.")
            return 0
        print_data(await privacy.purge(store, settings), args.json)
        return 0
    except crypto.KeyMissing as missing:
        print(f"{crypto.ENV}: {missing}", file=sys.stderr)
        return 2
    finally:
        await store.close()


async def _invites(store: Store, settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "list":
        print_data(await invites.listing(store), args.json)
        return 0
    if args.action == "revoke":
        if await invites.revoke(store, args.id):
            print(f"Uitnodiging {args.id} is ingetrokken.")
            return 0
        print(f"Geen ongebruikte uitnodiging met nummer {args.id}.", file=sys.stderr)
        return 1
    try:
        made = await invites.create(store, args.role, args.municipality, args.by, args.hours)
    except invites.InviteError as error:
        print(str(error), file=sys.stderr)
        return 1
    if args.json:
        data = {
            "id": made.id,
            "code": made.code,
            "link": invites.link(made.code, settings.telegram_bot_username),
            "role": made.role,
            "municipality": made.municipality,
            "expires_at": made.expires_at.isoformat(),
        }
        print_data(data, as_json=True)
    else:
        print(invites.announce(made, settings.telegram_bot_username))
    return 0


async def _dead_letters(store: Store, args: argparse.Namespace) -> int:
    if args.action == "list":
        print_data(await deadletters.listing(store), args.json)
        return 0
    if args.id is None and not args.all:
        print("Geef het nummer van een dead letter, of --all.", file=sys.stderr)
        return 1
    try:
        count = await deadletters.request_retry(store, None if args.all else args.id)
    except deadletters.NotFound:
        print(f"Geen dead letter met nummer {args.id}.", file=sys.stderr)
        return 1
    print(f"{count} bericht(en) worden opnieuw behandeld zodra de bot draait.")
    return 0
