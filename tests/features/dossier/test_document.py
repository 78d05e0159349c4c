"""The dossier read back: every field, every hash, the aangifte page; the package checks out."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from pypdf import PdfReader

from bot.__main__ import main
from bot.base.clock import AMSTERDAM
from bot.base.settings import Settings
from bot.features import dossier
from bot.store import Case, Store, open_store
from tests.features.dossier.seed import FIELDS, STORY, seeded_case

USER = "telegram:7001"


def pdf_text(data: bytes) -> str:
    """All text of a PDF with its whitespace made single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def flat(text: str) -> str:
    return " ".join(text.split())


async def load(store: Store, ref: str) -> Case:
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        assert case is not None
        return case


def render_png(data: bytes, page: int) -> Image.Image:
    """One page rendered by pdftoppm (poppler-utils), PDF in and PNG out through pipes."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing: .ci/run installs poppler-utils")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    done = subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", str(page), "-l", str(page), "-singlefile", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return Image.open(io.BytesIO(done.stdout)).convert("L")


async def test_the_pdf_holds_every_field_every_hash_and_the_aangifte_page(store: Store) -> None:
    ref = await seeded_case(store, USER, photos=3)
    case = await load(store, ref)
    data = dossier.pdf(case, store.clock.now())

    text = pdf_text(data)
    local = case.created_at.astimezone(AMSTERDAM)
    assert case.occurred_at is not None
    for expected in (
        f"Dossier voor aangifte {ref}",
        local.strftime("%d-%m-%Y %H:%M"),
        case.occurred_at.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M") + " (gisteravond)",
        "Bedreiging of intimidatie",
        "Bedreiging (art. 285 Sr)",
        "(art. 179 Sr)",
        FIELDS["location"],
        "Gericht op Mijn gezin",
        "Aangifte Ga ik doen",
        flat(STORY),  # verbatim, quotes and ampersand included
        "Melding ontvangen (melder)",
    ):
        assert expected in text, expected
    for item in case.evidence:
        assert item.sha256 in text
        assert f"Oorspronkelijke naam: {item.filename}" in text
    for number in (1, 2, 3):
        assert f"{number}. bewijs-0{number}.jpg – foto" in text
    assert "4. bewijs-04.txt – document, 21 bytes" in text

    aangifte = flat(PdfReader(io.BytesIO(data)).pages[-1].extract_text())
    assert aangifte.startswith(f"Dossier {ref} · pagina") or "Aangifte doen" in aangifte
    for expected in (
        "Aangifte doen",
        "Bel dan direct 112",
        "0900-8844",
        "VPT-incident",
        "(ELA)",
        "(domicilie)",
        "aangifte kunt doen onder nummer",
        "Je werkgever mag ook aangifte doen",
        "gericht op je gezin",
    ):
        assert expected in aangifte, expected
    # The photos are in it as thumbnails, small ones.
    images = [i for page in PdfReader(io.BytesIO(data)).pages for i in page.images]
    assert len(images) == 3
    assert all(max(Image.open(io.BytesIO(i.data)).size) <= dossier.THUMBNAIL for i in images)


async def test_a_page_renders_and_is_not_blank(store: Store) -> None:
    ref = await seeded_case(store, USER, photos=6)
    data = dossier.pdf(await load(store, ref), store.clock.now())
    pages = len(PdfReader(io.BytesIO(data)).pages)
    for number in (1, pages):
        page = render_png(data, number)
        assert page.size[0] > 300 and page.size[1] > 400  # A4 at 50 dpi
        inked = sum(page.histogram()[:128])  # dark pixels: text and pictures
        assert inked > 0.01 * page.size[0] * page.size[1], number
        assert ImageStat.Stat(page).stddev[0] > 10


async def test_a_category_without_a_checked_article_names_none(store: Store) -> None:
    ref = await seeded_case(store, USER, photos=0, documents=(), incident_type="online")
    text = pdf_text(dossier.pdf(await load(store, ref), store.clock.now()))
    assert "Online of sociale media" in text
    assert "Geen artikel vermeld" in text and "Sr)" not in text
    assert "Er is geen bewijs meegestuurd." in text
    assert dossier.offences("stalking") == ["Belaging (art. 285b Sr)"]
    assert dossier.offences("doxing")[0].endswith("(art. 285d Sr, sinds 1 januari 2024)")
    assert dossier.offences(None) == [] and dossier.offences("onzin") == []


def check_package(data: bytes) -> tuple[dict[str, bytes], dict]:
    """The package's files; fails unless every file matches SHA256SUMS and the manifest."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    sums: dict[str, str] = {}
    for line in files.pop("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    assert set(sums) == set(files)
    for name, content in files.items():
        assert hashlib.sha256(content).hexdigest() == sums[name], name
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        assert sums[entry["name"]] == entry["sha256"]
        assert len(files[entry["name"]]) == entry["size"]
    return files, manifest


async def test_the_command_writes_the_pdf_or_the_package_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    store = await open_store(Settings.from_env().database_url)
    ref = await seeded_case(store, USER, photos=2)
    case = await load(store, ref)
    await store.close()
    out = tmp_path / "uit"
    out.mkdir()

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))  # runs its own event loop: from a worker thread
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    code, said, _ = await asyncio.to_thread(
        run, "cases", "dossier", ref, "--out", str(out / "pakket.zip"), "--by", "Beheerder"
    )
    assert code == 0 and "pakket.zip" in said
    files, manifest = check_package((out / "pakket.zip").read_bytes())
    assert sorted(files) == [
        "bewijs/bewijs-01.jpg",
        "bewijs/bewijs-02.jpg",
        "bewijs/bewijs-03.txt",
        f"dossier-{ref}.pdf",
        "manifest.json",
    ]
    assert [f["original_name"] for f in manifest["files"]] == [e.filename for e in case.evidence]
    assert (manifest["case"], manifest["part"], manifest["parts"]) == (ref, 1, 1)
    text = pdf_text(files[f"dossier-{ref}.pdf"])
    # The files in the package are the ones the PDF vouches for.
    assert [hashlib.sha256(files[f["name"]]).hexdigest() for f in manifest["files"]] == [
        e.sha256 for e in case.evidence
    ]
    assert all(e.sha256 in text for e in case.evidence)

    code, _, _ = await asyncio.to_thread(
        run, "cases", "dossier", ref, "--out", str(out / "dossier.pdf")
    )
    assert code == 0 and (out / "dossier.pdf").read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in out.iterdir()) == ["dossier.pdf", "pakket.zip"]

    code, _, err = await asyncio.to_thread(
        run, "cases", "dossier", "WB-1999-9999", "--out", str(out / "x.pdf")
    )
    assert code == 1 and "Geen melding met nummer WB-1999-9999" in err
    code, _, err = await asyncio.to_thread(
        run, "cases", "dossier", ref, "--out", str(tmp_path / "bestaat-niet" / "x.pdf")
    )
    assert code == 1 and "Kan " in err
    assert sorted(p.name for p in out.iterdir()) == ["dossier.pdf", "pakket.zip"]

    store = await open_store(Settings.from_env().database_url)
    made = [e for e in (await load(store, ref)).events if e.kind == "dossier_made"]
    await store.close()
    assert [(e.actor, e.detail) for e in made] == [
        ("Beheerder", {"for": "operator"}),
        ("Lokale medewerker", {"for": "operator"}),
    ]


async def test_a_package_too_large_for_one_document_is_split(store: Store) -> None:
    ref = await seeded_case(store, USER, photos=6, documents=())
    case = await load(store, ref)
    now = store.clock.now()
    pdf_size = len(dossier.pdf(case, now))
    photo_size = max(e.size for e in case.evidence)
    limit = pdf_size + 2 * photo_size + 8 * dossier.ZIP_ENTRY_OVERHEAD  # room for two photos

    made = dossier.files(case, now, limit=limit)

    assert [m.name for m in made] == [f"dossier-{ref}.pdf"] + [
        f"bewijs-{ref}-deel-{n}-van-3.zip" for n in (1, 2, 3)
    ]
    seen: list[str] = []
    for number, part in enumerate(made[1:], start=1):
        assert len(part.data) <= limit
        files, manifest = check_package(part.data)
        assert (manifest["part"], manifest["parts"]) == (number, 3)
        assert f"dossier-{ref}.pdf" in files
        seen += [f["sha256"] for f in manifest["files"]]
    assert seen == [e.sha256 for e in case.evidence]  # every file once, in order


async def test_an_erased_case_has_no_dossier(store: Store) -> None:
    ref = await seeded_case(store, USER, photos=1)
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        assert case is not None
        case.purged_at = store.clock.now()
    with pytest.raises(dossier.DossierUnavailable):
        dossier.pdf(await load(store, ref), store.clock.now())
