"""`intake users add NAME | list | remove NAME`: dashboard accounts from the command line.

The password is read from the terminal (twice, not echoed), or from the
first line of standard input when it is not a terminal (scripts, CI).
"""
from __future__ import annotations

import datetime as dt
import getpass
import sys
from typing import TextIO

from intake.processor.web.accounts import AccountError, account_name, hash_password
from intake.store.repository import Store
from intake.store.users import Accounts

__all__ = ["command", "read_password"]


def read_password(stdin: TextIO | None = None) -> str:
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("Mật khẩu mới: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != first:
            raise AccountError("password: the two entries differ")
        return first
    return stdin.readline().rstrip("\r\n")


def command(store: Store, sub: str, name: str | None, now: dt.datetime, stdin: TextIO | None = None,
            out: TextIO | None = None) -> int:
    out = out or sys.stdout
    accounts = Accounts(store.db)
    if sub == "list":
        for acc in accounts.list():
            last = acc.last_login_at.isoformat(timespec="minutes") if acc.last_login_at else "-"
            print(f"{acc.name}\tcreated {acc.created_at.isoformat(timespec='minutes')}\tlast login {last}", file=out)
        return 0
    assert name is not None
    canonical = account_name(name)
    if sub == "add":
        new = accounts.add(canonical, hash_password(read_password(stdin)), now)
        print(f"{'created' if new else 'password changed for'} {canonical}", file=out)
        return 0
    if not accounts.remove(canonical):
        raise AccountError(f"no account \"{canonical}\"")
    print(f"removed {canonical}", file=out)
    return 0
