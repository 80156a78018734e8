"""Transport that writes each message as an .eml file into a folder (the demo's default)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from intake.parsers.errors import SendError
from intake.processor.i18n import _
from intake.processor.sending.transport import Envelope


class OutboxTransport:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, envelope: Envelope) -> Path:
        # Named by the mail's label (our row id): writing it again after a crash replaces it, never duplicates it.
        return self.folder / f"{envelope.label}.eml"

    def send(self, envelope: Envelope) -> None:
        target = self.path_for(envelope)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(envelope.raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            raise SendError(_("cannot write {path}: {reason}", path=target, reason=exc.strerror)) from exc

    def probe(self) -> str:
        """For check-config: the outbox folder can be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".probe-"):
                pass
        except OSError as exc:
            raise SendError(_("outbox {path} is not writable: {reason}", path=self.folder,
                              reason=exc.strerror)) from exc
        return _("outbox folder {path}: writable", path=self.folder)

    def close(self) -> None:
        """Nothing to release."""
