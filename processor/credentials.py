"""OAuth2 access tokens for XOAUTH2 (IMAP and SMTP alike).

intake does not run an OAuth flow itself: an access token is obtained by a
command the operator configures (e.g. `oauth2l fetch --json ... --scope
https://mail.google.com/`, or a small refresh-token script) or read from a file
another process keeps fresh. The token is a secret: it never appears in a log
line or an exception message.
"""
from __future__ import annotations

import logging
import shlex
import subprocess
from pathlib import Path

from intake.parsers.errors import ConfigError, CredentialError
from intake.processor.i18n import _

log = logging.getLogger(__name__)
COMMAND_TIMEOUT = 30.0


def oauth2_token(command: str | None, token_file: Path | None, *, timeout: float = COMMAND_TIMEOUT) -> str:
    """The access token printed by `command` (first non-empty stdout line), else read from `token_file`."""
    if command:
        return _from_command(command, timeout)
    if token_file is not None:
        return _from_file(token_file)
    raise ConfigError(_("XOAUTH2 needs oauth2_token_command or oauth2_token_file"))


def _from_command(command: str, timeout: float) -> str:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(_("cannot split the command line: {reason}", reason=exc), key="oauth2_token_command") from exc
    if not argv:
        raise ConfigError(_("empty command"), key="oauth2_token_command")
    try:
        # No shell: the configured string is split, never interpreted.
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise CredentialError(_("OAuth2 token command not found: {command}", command=argv[0])) from exc
    except subprocess.TimeoutExpired as exc:
        raise CredentialError(_("OAuth2 token command {command} did not finish within {seconds} s", command=argv[0],
                                seconds=f"{timeout:.0f}")) from exc
    except OSError as exc:
        raise CredentialError(_("OAuth2 token command {command} could not run: {reason}", command=argv[0],
                                reason=exc.strerror)) from exc
    if done.returncode != 0:
        # stderr is the command's own diagnostics; stdout might hold a token, so it is never shown.
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {err[-1][:200]}" if err else ""
        raise CredentialError(_("OAuth2 token command {command} failed with status {status}{detail}", command=argv[0],
                                status=done.returncode, detail=detail))
    token = _first_line(done.stdout.decode("utf-8", "replace"))
    if not token:
        raise CredentialError(_("OAuth2 token command {command} printed no token", command=argv[0]))
    log.debug("OAuth2 token obtained from %s (%d characters)", argv[0], len(token))
    return token


def _from_file(path: Path) -> str:
    try:
        token = _first_line(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialError(_("cannot read OAuth2 token file {path}: {reason}", path=path, reason=exc)) from exc
    if not token:
        raise CredentialError(_("OAuth2 token file {path} is empty", path=path))
    return token


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
