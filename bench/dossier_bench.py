"""The aangifte dossier: seconds to make it for a case with 20 photos, and the memory it takes."""

from __future__ import annotations

import asyncio
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from bot.features import dossier
from bot.store import Case, open_store
from tests.features.dossier.seed import seeded_case

PHOTOS = 20
PHOTO_SIZE = (4000, 3000)  # 12 megapixels, as a phone camera takes them
ROUNDS = 3


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


async def _case(directory: Path) -> Case:
    store = await open_store(f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    try:
        ref = await seeded_case(store, "bench:1", photos=PHOTOS, photo_size=PHOTO_SIZE)
        async with store.session() as session:
            case = await store.case_by_ref(session, ref)
            assert case is not None
            return case
    finally:
        await store.close()


def run() -> dict:
    """Make the PDF and the reporter's documents a few times; time them and watch memory."""
    with tempfile.TemporaryDirectory() as directory:
        case = asyncio.run(_case(Path(directory)))
    now = case.created_at
    evidence_mb = sum(e.size for e in case.evidence) / 1e6
    rss_before = _rss_mb()
    pdf_s, all_s = [], []
    tracemalloc.start()
    for _ in range(ROUNDS):
        started = time.perf_counter()
        pdf = dossier.pdf(case, now)
        pdf_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        made = dossier.files(case, now)
        all_s.append(time.perf_counter() - started)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "photos": PHOTOS,
        "photo_pixels": f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}",
        "evidence_mb": round(evidence_mb, 1),
        "pdf_mb": round(len(pdf) / 1e6, 2),
        "documents": len(made),
        "documents_mb": round(sum(len(m.data) for m in made) / 1e6, 1),
        "pdf_s": round(statistics.median(pdf_s), 3),
        "dossier_s": round(statistics.median(all_s), 3),  # PDF plus evidence package(s)
        "rounds": ROUNDS,
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
        "python_peak_mb": round(traced_peak / 1e6, 1),  # Python's own allocations only
    }
