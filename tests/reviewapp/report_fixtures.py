"""Shared helpers of the report tests (no tests here)."""

import io
import os
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def chart_browser(settings):
    """The Chromium that draws the report's charts; a missing one skips (fails in CI)."""
    if not Path(settings.REPORT_BROWSER_PATH).exists():
        if IN_CI:
            pytest.fail(f"Chromium is required in CI and missing at {settings.REPORT_BROWSER_PATH}")
        pytest.skip(f"Chromium not installed at {settings.REPORT_BROWSER_PATH}")
    return settings.REPORT_BROWSER_PATH


def pdf_reader(pdf: bytes):
    import pypdf

    return pypdf.PdfReader(io.BytesIO(pdf))


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pdf_reader(pdf).pages)


def image_xobjects(pdf: bytes) -> list[str]:
    """Names of raster images anywhere in the PDF (pages and the form XObjects they draw)."""
    found, seen = [], set()

    def walk(resources, where):
        xobjects = (resources or {}).get("/XObject") or {}
        for name, ref in xobjects.items():
            obj = ref.get_object()
            key = getattr(ref, "idnum", id(obj))
            if key in seen:
                continue
            seen.add(key)
            if obj.get("/Subtype") == "/Image":
                found.append(f"{where}{name}")
            elif obj.get("/Subtype") == "/Form":
                walk(obj.get("/Resources"), f"{where}{name}/")

    for number, page in enumerate(pdf_reader(pdf).pages, start=1):
        walk(page.get("/Resources"), f"page {number} ")
    return found


def outline_titles(pdf: bytes) -> list[str]:
    titles = []

    def walk(entries):
        for entry in entries:
            if isinstance(entry, list):
                walk(entry)
            else:
                titles.append(entry.title)

    walk(pdf_reader(pdf).outline)
    return titles
