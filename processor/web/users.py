"""`intake users add NAME | list | remove NAME`: dashboard accounts from the command line.

The password is read from the terminal (twice, not echoed), or from the
first line of standard input when it is not a terminal (scripts, CI).
"""
from __future__ import annotations

import datetime as dt
import getpass
import sys
from typing import TextIO
from zoneinfo import ZoneInfo

from intake.processor.i18n import _
from intake.processor.times import local_time
from intake.processor.web.accounts import AccountError, account_name, hash_password
from intake.store.repository import Store
from intake.store.users import Accounts

__all__ = ["command", "read_password"]


def read_password(stdin: TextIO | None = None) -> str:
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass(_("New password: "))
        if getpass.getpass(_("The same password again: ")) != first:
            raise AccountError(_("password: the two entries differ"))
        return first
    return stdin.readline().rstrip("\r\n")


def command(store: Store, sub: str, name: str | None, now: dt.datetime, stdin: TextIO | None = None,
            out: TextIO | None = None, tz: ZoneInfo | None = None) -> int:
    """`tz`: the zone times are shown in (the config's); UTC when not given."""
    tz = tz or ZoneInfo("UTC")
    out = out or sys.stdout
    accounts = Accounts(store.db)
    if sub == "list":
        for acc in accounts.list():
            last = local_time(acc.last_login_at, tz) if acc.last_login_at else "-"
            print(_("{name}\tcreated {created}\tlast login {last}", name=acc.name,
                    created=local_time(acc.created_at, tz), last=last), file=out)
        return 0
    assert name is not None
    canonical = account_name(name)
    if sub == "add":
        new = accounts.add(canonical, hash_password(read_password(stdin)), now)
        print(_("created {name}", name=canonical) if new else _("password changed for {name}", name=canonical),
              file=out)
        return 0
    if not accounts.remove(canonical):
        raise AccountError(_("no account \"{name}\"", name=canonical))
    print(_("removed {name}", name=canonical), file=out)
    return 0
