"""Cases with evidence written straight into the store, for the dossier tests and bench."""

from __future__ import annotations

import hashlib
import io
import random
from typing import Any

from PIL import Image

from bot.store import Evidence, Store

STORY = (
    "Na de raadsvergadering wachtte een man me op bij de fietsenstalling.\n"
    'Hij riep: "Ik weet waar je woont & ik kom langs" en sloeg met zijn vuist op mijn stuur.'
)
FIELDS: dict[str, Any] = {
    "kind": "incident",
    "story": STORY,
    "incident_type": "bedreiging",
    "occurred_text": "gisteravond",
    "location": "Fietsenstalling van het gemeentehuis in Heiloo",
    "targeted": "gezin",
    "aangifte": "van_plan",
    "wants_support": False,
}


def photo(seed: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A JPEG with noise in it (so it compresses like a real photo, and is never blank)."""
    rng = random.Random(seed)
    small = Image.new("RGB", (size[0] // 8, size[1] // 8))
    small.putdata(
        [
            (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            for _ in range(small.width * small.height)
        ]
    )
    out = io.BytesIO()
    small.resize(size).save(out, "JPEG", quality=85)
    return out.getvalue()


async def seeded_case(
    store: Store,
    user: str,
    *,
    photos: int = 2,
    photo_size: tuple[int, int] = (1600, 1200),
    documents: tuple[tuple[str, bytes], ...] = (
        ("chat met dreiging.txt", b"Ik weet je te vinden."),
    ),
    **fields: Any,
) -> str:
    """A case of this reporter with photos and documents as evidence; returns its reference."""
    async with store.session() as session:
        reporter = await store.reporter(session, user)
        occurred = store.clock.now().replace(hour=20, minute=30)
        case = await store.create_case(
            session, reporter, occurred_at=occurred, **{**FIELDS, **fields}
        )
        files = [
            ("photo", "image/jpeg", f"IMG_{n:04d}.jpg", photo(n, photo_size)) for n in range(photos)
        ]
        files += [("document", "text/plain", name, data) for name, data in documents]
        for kind, mime, name, data in files:
            session.add(
                Evidence(
                    case_id=case.id,
                    reporter_id=reporter.id,
                    kind=kind,
                    mime=mime,
                    filename=name,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    content=data,
                    received_at=store.clock.now(),
                )
            )
        return case.ref
