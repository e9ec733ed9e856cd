"""Pure helpers for the report tests (imported by module name: tests/ has no packages)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

UNICODE_NAMES = (
    ("Zoë", "Øster-Ñúñez"),
    ("Łukasz", "Żółć"),
    ("Σοφία", "Παπαδοπούλου"),
    ("Анна", "Иванова"),
)


def pdf_text(pdf: bytes) -> list[str]:
    """Text of every page (pypdf)."""
    import pypdf

    return [page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Collapse whitespace so wrapped lines still match a phrase."""
    return " ".join(text.split())


def render_pages(pdftoppm: str, pdf: bytes, tmp_path: Path, dpi: int = 40) -> list[Path]:
    """Render every page to PNG with pdftoppm; return the files in page order."""
    src = tmp_path / "in.pdf"
    src.write_bytes(pdf)
    subprocess.run([pdftoppm, "-png", "-r", str(dpi), str(src), str(tmp_path / "page")], check=True, timeout=120)
    return sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
