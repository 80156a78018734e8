"""`intake check-config`: the config is valid (it loaded); now try the mailbox and mail-out."""
from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from intake.parsers.errors import IntakeError
from intake.processor.config import Config
from intake.processor.mailbox import open_mailbox
from intake.processor.ops.probes import probe_libreoffice, probe_store_line
from intake.processor.sending import open_transport


def check_config(cfg: Config, console: Console) -> int:
    # The config's own part of the catalog; staff's units and campaigns are in the store (`units list`).
    console.print(f"config {cfg.path}: valid ({len(cfg.units)} units, {len(cfg.campaigns)} campaigns in the config)",
                  highlight=False)
    failures = 0
    probes: tuple[tuple[str, Callable[[Config], str]], ...] = (
        ("mailbox", _probe_mailbox), ("sending", _probe_sending), ("store", probe_store_line),
        ("LibreOffice", probe_libreoffice))
    for label, probe in probes:
        try:
            console.print(f"{label}: {probe(cfg)}", highlight=False)
        except IntakeError as exc:
            failures += 1
            console.print(f"{label}: FAILED: {exc}", highlight=False)
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
