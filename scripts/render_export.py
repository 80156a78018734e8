"""Render an export as a person would see it: PDF, then PNG pages to look at.

    .venv/bin/python scripts/render_export.py FILE [FILE ...] [--out DIR] [--pages N] [--dpi 80] [--json]

.docx and .xlsx go through LibreOffice headless (a private profile set to
Vietnamese locale settings, as in a Vietnamese office: 1.234 and 98,5 in
Calc), .html through Chromium's print to PDF (A4, the page's own @page
rules). The PDF is then split into PNG pages with pdftoppm. Printed per file
(or as JSON with --json, which the tests read): the PDF's page count and
first-page size in millimetres (pdfinfo), the fonts in it (pdffonts), the PNGs.

Needs soffice (libreoffice-writer-nogui, libreoffice-calc-nogui), chromium
and poppler-utils: `scripts/setup-system.sh` installs them.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

POINT_MM = 25.4 / 72
TIMEOUT = 180
# LibreOffice's locale, as a Vietnamese office sets it (decimal comma, thousands dot).
PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>vi-VN</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse">
<value>vi-VN</value></prop></item>
</oor:items>
"""


class RenderError(Exception):
    """A converter is missing or failed."""


@dataclass(frozen=True)
class Rendered:
    source: str
    pdf: str
    pages: int
    page_mm: tuple[float, float]
    fonts: list[str]
    pngs: list[str]


def _run(cmd: list[str], what: str) -> str:
    if shutil.which(cmd[0]) is None:
        raise RenderError(f"{cmd[0]} not found: run scripts/setup-system.sh ({what})")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode != 0:
        raise RenderError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def to_pdf(source: Path, out_dir: Path) -> Path:
    suffix = source.suffix.lower()
    pdf = out_dir / f"{source.name}.pdf"  # report.docx.pdf: a docx and an xlsx of one name do not collide
    if suffix in (".docx", ".xlsx", ".doc", ".odt", ".ods"):
        with tempfile.TemporaryDirectory(prefix="intake-lo-") as profile:
            user = Path(profile) / "user"
            user.mkdir()
            (user / "registrymodifications.xcu").write_text(PROFILE_XCU, encoding="utf-8")
            _run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                  "--convert-to", "pdf", "--outdir", str(out_dir), str(source)], f"LibreOffice on {source.name}")
        written = out_dir / f"{source.stem}.pdf"
        if written.is_file():
            written.replace(pdf)
    elif suffix in (".html", ".htm"):
        with tempfile.TemporaryDirectory(prefix="intake-chromium-") as profile:
            _run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                  source.resolve().as_uri()], f"Chromium on {source.name}")
    else:
        raise RenderError(f"cannot render {source.name}: expected .docx, .xlsx or .html")
    if not pdf.is_file():
        raise RenderError(f"no PDF written for {source.name}")
    return pdf


def pdf_facts(pdf: Path) -> tuple[int, tuple[float, float], list[str]]:
    info = _run(["pdfinfo", str(pdf)], "pdfinfo")
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert size is not None, info
    page_mm = (round(float(size.group(1)) * POINT_MM, 1), round(float(size.group(2)) * POINT_MM, 1))
    listing = _run(["pdffonts", str(pdf)], "pdffonts").splitlines()[2:]
    # "ABCDEF+LiberationSerif-Bold" -> "LiberationSerif-Bold"
    fonts = sorted({line.split()[0].split("+", 1)[-1] for line in listing if line.strip()})
    return pages, page_mm, fonts


def to_png(pdf: Path, out_dir: Path, stem: str, *, pages: int, dpi: int) -> list[Path]:
    prefix = out_dir / stem
    _run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", str(pages), str(pdf), str(prefix)], "pdftoppm")
    return sorted(out_dir.glob(f"{stem}-*.png"))


def render(source: Path, out_dir: Path, *, pages: int = 99, dpi: int = 80) -> Rendered:
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = to_pdf(source, out_dir)
    count, page_mm, fonts = pdf_facts(pdf)
    pngs = to_png(pdf, out_dir, source.name, pages=min(pages, count), dpi=dpi)
    return Rendered(str(source), str(pdf), count, page_mm, fonts, [str(p) for p in pngs])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=Path("render"), help="folder for the PDFs and PNGs (default: render)")
    p.add_argument("--pages", type=int, default=99, help="PNG pages per file, from the first")
    p.add_argument("--dpi", type=int, default=80)
    p.add_argument("--json", action="store_true", help="one JSON object per file, for tests")
    args = p.parse_args(argv)
    results = []
    try:
        for source in args.files:
            results.append(render(source, args.out, pages=args.pages, dpi=args.dpi))
    except RenderError as exc:
        print(f"render_export: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump([asdict(r) for r in results], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        for r in results:
            print(f"{r.source}: {r.pages} page(s), {r.page_mm[0]} x {r.page_mm[1]} mm, fonts {', '.join(r.fonts)}")
            for png in r.pngs:
                print(f"  {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
