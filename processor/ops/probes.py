"""check-config's extra probes: the store is reachable, LibreOffice is there."""
from __future__ import annotations

from intake.parsers.errors import StoreError
from intake.processor.config import Config
from intake.processor.documents import DocumentReader, ReaderLimits
from intake.processor.documents.office import Office
from intake.processor.i18n import _
from intake.store.schema import probe_store


def probe_store_line(cfg: Config) -> str:
    ok, line = probe_store(cfg.store.url)
    if not ok:
        raise StoreError(line)
    return _("{store}; files in {path}", store=line, path=cfg.store.files_dir)


def probe_libreoffice(cfg: Config) -> str:
    """Never a failure: without LibreOffice only legacy .doc reports are affected, and the line says how."""
    soffice = DocumentReader(ReaderLimits()).soffice
    if soffice:
        if not Office.available():
            return _("found {path} (legacy .doc reports are converted, each by a LibreOffice of its own: "
                     "install python3-uno to keep one running)", path=soffice)
        return _("found {path} (legacy .doc reports are converted by one LibreOffice kept running)", path=soffice)
    return _("WARNING: not found: .doc reports will be recorded as unsupported_attachment "
             "(install it: apt-get install libreoffice-writer-nogui)")
