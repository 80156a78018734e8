"""Dashboard accounts and the login throttle's ledger.

The store keeps what a password hash *is* opaque: hashing and checking live
in `processor/web/accounts.py`. Failed logins are persisted (one row per
failure, keyed by account name and by client address) so the throttle holds
across restarts and across several server processes on one store.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from intake.store.db import Database
from intake.store.kinds import ThrottleKey
from intake.store.models import LoginFailure, StaffUser


@dataclass(frozen=True)
class AccountView:
    name: str
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class Accounts:
    """The store's side of dashboard accounts: rows in, plain values out."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, password_hash: str, now: dt.datetime) -> bool:
        """Create the account, or replace its password; True when it is new."""
        with self.db.transaction() as s:
            row = s.get(StaffUser, name)
            if row is None:
                s.add(StaffUser(name=name, password_hash=password_hash, created_at=now))
                return True
            row.password_hash = password_hash
            return False

    def remove(self, name: str) -> bool:
        with self.db.transaction() as s:
            row = s.get(StaffUser, name)
            if row is None:
                return False
            s.delete(row)
            return True

    def list(self) -> list[AccountView]:
        with self.db.read_session() as s:
            rows = s.scalars(select(StaffUser).order_by(StaffUser.name)).all()
            return [AccountView(r.name, r.created_at, r.last_login_at) for r in rows]

    def password_hash(self, name: str) -> str | None:
        with self.db.read_session() as s:
            row = s.get(StaffUser, name)
            return None if row is None else row.password_hash

    def exists(self, name: str) -> bool:
        return self.password_hash(name) is not None

    def logged_in(self, name: str, now: dt.datetime, new_hash: str | None = None) -> None:
        """Record a successful login (and a rehash, when the KDF's parameters changed)."""
        with self.db.transaction() as s:
            row = s.get(StaffUser, name)
            if row is not None:
                row.last_login_at = now
                if new_hash is not None:
                    row.password_hash = new_hash
            s.execute(delete(LoginFailure).where(LoginFailure.kind == ThrottleKey.ACCOUNT, LoginFailure.key == name))

    # -- login throttle ---------------------------------------------------------

    def record_failure(self, account: str, address: str, now: dt.datetime) -> None:
        with self.db.transaction() as s:
            s.add(LoginFailure(kind=ThrottleKey.ACCOUNT, key=account, at=now))
            s.add(LoginFailure(kind=ThrottleKey.ADDRESS, key=address, at=now))

    def failures_since(self, kind: ThrottleKey, key: str, since: dt.datetime) -> int:
        with self.db.read_session() as s:
            count = s.scalar(select(func.count(LoginFailure.id)).where(
                LoginFailure.kind == kind, LoginFailure.key == key, LoginFailure.at >= since))
            return int(count or 0)

    def forget_failures_before(self, before: dt.datetime) -> int:
        """Drop rows older than any throttle window (called now and then by the server)."""
        with self.db.transaction() as s:
            result = s.execute(delete(LoginFailure).where(LoginFailure.at < before))
            return int(getattr(result, "rowcount", 0) or 0)
