"""check-config's extra probes: the store is reachable, LibreOffice is there."""
from __future__ import annotations

from intake.parsers.errors import StoreError
from intake.processor.config import Config
from intake.processor.documents import DocumentReader, ReaderLimits
from intake.processor.documents.office import Office
from intake.store.schema import probe_store


def probe_store_line(cfg: Config) -> str:
    ok, line = probe_store(cfg.store.url)
    if not ok:
        raise StoreError(line)
    return f"{line}; files in {cfg.store.files_dir}"


def probe_libreoffice(cfg: Config) -> str:
    """Never a failure: without LibreOffice only legacy .doc reports are affected, and the line says how."""
    soffice = DocumentReader(ReaderLimits()).soffice
    if soffice:
        if not Office.available():
            return (f"found {soffice} (legacy .doc reports are converted, each by a LibreOffice of its own: "
                    "install python3-uno to keep one running)")
        return f"found {soffice} (legacy .doc reports are converted by one LibreOffice kept running)"
    return ("WARNING: not found: .doc reports will be recorded as unsupported_attachment "
            "(install it: apt-get install libreoffice-writer-nogui)")
