"""`intake check-config`: the config is valid (it loaded); now try the mailbox and mail-out."""
from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from intake.parsers.errors import IntakeError
from intake.processor.config import Config
from intake.processor.i18n import _
from intake.processor.mailbox import open_mailbox
from intake.processor.ops.probes import probe_libreoffice, probe_store_line
from intake.processor.sending import open_transport


def check_config(cfg: Config, console: Console) -> int:
    # The config's own part of the catalog; staff's units and campaigns are in the store (`units list`).
    console.print(_("config {path}: valid ({units} units, {campaigns} campaigns in the config)", path=cfg.path,
                    units=len(cfg.units), campaigns=len(cfg.campaigns)), highlight=False, markup=False)
    failures = 0
    probes: tuple[tuple[str, Callable[[Config], str]], ...] = (
        (_("mailbox"), _probe_mailbox), (_("sending"), _probe_sending), (_("store"), probe_store_line),
        ("LibreOffice", probe_libreoffice))
    for label, probe in probes:
        try:
            console.print(f"{label}: {probe(cfg)}", highlight=False, markup=False)
        except IntakeError as exc:
            failures += 1
            console.print(_("{label}: FAILED: {reason}", label=label, reason=exc), highlight=False, markup=False)
    return 1 if failures else 0


def _probe_mailbox(cfg: Config) -> str:
    mailbox = open_mailbox(cfg.mailbox)
    try:
        return mailbox.probe()
    finally:
        mailbox.close()


def _probe_sending(cfg: Config) -> str:
    transport = open_transport(cfg.sending)
    try:
        return transport.probe()
    finally:
        transport.close()
