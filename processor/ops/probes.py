"""check-config's extra probes: the store is reachable, LibreOffice is there."""
from __future__ import annotations

from intake.parsers.errors import StoreError
from intake.processor.config import Config
from intake.processor.documents import DocumentReader, ReaderLimits
from intake.processor.documents.libreoffice import LibreOffice
from intake.processor.i18n import N_, _
from intake.store.schema import SchemaOutdated, probe_store

STORE_FOUND = {  # StoreProbe.reason -> what check-config says
    "cannot_create": N_("{where}: cannot create it, folder {detail} missing or not writable"),
    "not_created": N_("{where}: not created yet (`intake db upgrade` or the first `intake run` creates it)"),
    "unreachable": N_("{where}: not reachable: {detail}"),
    "reachable": N_("{where}: reachable, schema {detail} {revision}"),
    "outdated": N_("{where}: schema {revision}, needs {head}: run `intake db upgrade` (after `intake backup`)"),
}
SCHEMA_PROBLEM = {  # SchemaOutdated.reason -> what a command that refuses the store says
    "missing": N_("no store at {where}: run `intake db upgrade` (after `intake backup`) to create it, "
                  "or check [store] url"),
    "empty": N_("the store at {where} is empty: run `intake db upgrade` to create it"),
    "unknown": N_("the store at {where} has schema revision {revision}, which this intake (head {head}) does "
                  "not know: is it a newer release's?"),
    "outdated": N_("the store at {where} has schema revision {revision}, this intake needs {head}: "
                   "run `intake db upgrade` (after `intake backup`)"),
}


def probe_store_line(cfg: Config) -> str:
    found = probe_store(cfg.store.url)
    line = _(STORE_FOUND[found.reason], where=found.where, detail=found.detail,
             revision=found.revision or "0.1.0", head=found.head).rstrip()
    if not found.ok:
        raise StoreError(line)
    return _("{store}; files in {path}", store=line, path=cfg.store.files_dir)


def schema_problem(exc: SchemaOutdated) -> str:
    """A refused store, said in the user's language."""
    return _(SCHEMA_PROBLEM[exc.reason], where=exc.where, revision=exc.revision or "0.1.0", head=exc.head)


def probe_libreoffice(cfg: Config) -> str:
    """Never a failure: without LibreOffice only legacy .doc reports are affected, and the line says how."""
    soffice = DocumentReader(ReaderLimits()).soffice
    if soffice:
        if not LibreOffice.available():
            return _("found {path} (legacy .doc reports are converted, each by a LibreOffice of its own: "
                     "install python3-uno to keep one running)", path=soffice)
        return _("found {path} (legacy .doc reports are converted by one LibreOffice, started by the first one "
                 "and stopped after 5 idle minutes)", path=soffice)
    return _("WARNING: not found: .doc reports will be recorded as unsupported_attachment "
             "(install it: apt-get install libreoffice-writer-nogui)")
