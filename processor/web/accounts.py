"""Dashboard accounts: argon2id password hashes and the login throttle.

Used by `intake users ...` and by the web app's login. The throttle counts
failed logins in the store (persisted, so it holds across restarts and
several processes): at most `PER_ACCOUNT` failures for one account name and
`PER_ADDRESS` for one client address within `WINDOW`; past either, every
login for it is refused, even with the right password, until the window
has moved on.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from intake.parsers.errors import UsageError
from intake.processor.i18n import _
from intake.store.kinds import ThrottleKey
from intake.store.users import Accounts

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD = 10
WINDOW = dt.timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 20

# argon2id with OWASP's recommended floor (19 MiB, 2 passes, 1 lane): memory-hard, and about
# 0.1 s a check on a small office server, where RFC 9106's 64 MiB x 3 x 4 takes near a second.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Checked when the account does not exist, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("intake: no such account")


class AccountError(UsageError):
    """A bad account name or password given to `intake users` (exit 2)."""


def account_name(text: str) -> str:
    """The canonical form of an account name: NFC, lower case, [a-z0-9._-], 1 to 64 characters."""
    name = unicodedata.normalize("NFC", text.strip()).lower()
    if not NAME_RE.fullmatch(name):
        raise AccountError(_("account name: use 1 to 64 of a-z 0-9 . _ - (starting with a letter or digit), "
                             "got \"{text}\"", text=text))
    return name


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(_("password: at least {count} characters", count=MIN_PASSWORD))
    return _hasher.hash(password)


class LoginResult(StrEnum):
    OK = "ok"
    WRONG = "wrong"           # unknown account or wrong password (never said which)
    THROTTLED = "throttled"   # too many failures for this account or address


@dataclass
class Logins:
    """Checks a login against the store, throttled per account and per address."""

    accounts: Accounts
    clock: Callable[[], dt.datetime]

    def throttled(self, name: str, address: str) -> bool:
        since = self.clock() - WINDOW
        return (self.accounts.failures_since(ThrottleKey.ACCOUNT, name, since) >= PER_ACCOUNT
                or self.accounts.failures_since(ThrottleKey.ADDRESS, address, since) >= PER_ADDRESS)

    def login(self, raw_name: str, password: str, address: str) -> tuple[LoginResult, str]:
        """(result, canonical account name). Records a failure for WRONG."""
        try:
            name = account_name(raw_name)
        except AccountError:
            name = raw_name.strip().lower()[:64] or "-"
        now = self.clock()
        if self.throttled(name, address):
            log.warning("login refused for %r from %s: throttled", name, address)
            return LoginResult.THROTTLED, name
        stored = self.accounts.password_hash(name)
        if not _verify(stored or _DUMMY_HASH, password) or stored is None:
            self.accounts.record_failure(name, address, now)
            self.accounts.forget_failures_before(now - WINDOW * 4)
            log.warning("login failed for %r from %s", name, address)
            return LoginResult.WRONG, name
        rehash = _hasher.hash(password) if _hasher.check_needs_rehash(stored) else None
        self.accounts.logged_in(name, now, rehash)
        log.info("login %r from %s", name, address)
        return LoginResult.OK, name


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return False
