"""A private SMTP server for tests, on aiosmtpd's threaded `Controller`.

Every message accepted is kept in `messages` (envelope sender, recipients,
raw bytes as received, the authenticated user, whether TLS was on). Variants:

    SmtpServer()                                         plain SMTP, no AUTH
    SmtpServer(security="starttls")                      STARTTLS offered, AUTH offered after it
    SmtpServer(security="starttls", auth="required")     STARTTLS + AUTH PLAIN/LOGIN both mandatory
    SmtpServer(security="ssl")                           implicit TLS (port-465 style), AUTH offered

A failure script makes the server answer MAIL, RCPT or DATA with an error:

    server.fail_next(451, "4.3.0 try again later", times=2)          # then accept again
    server.fail_next(550, "5.1.1 no such user", times=None)           # always
    server.fail_next(452, "4.3.1 out of space", stage="data")
"""

from __future__ import annotations

import email
import email.policy
import errno
import logging
import shutil
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from ._util import ManagedServer, ServerStartError, free_port, make_cert

Security = Literal["none", "starttls", "ssl"]
AuthMode = Literal["none", "optional", "required"]
Stage = Literal["mail", "rcpt", "data"]


class _DropLoginDataNotice(logging.Filter):
    """aiosmtpd logs a deprecation warning about Session.login_data, set by itself, after every AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Session.login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_DropLoginDataNotice())

DEFAULT_USERS: dict[str, str] = {"intake@example.test": "smtp-secret"}
START_TIMEOUT = 15.0


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server accepted it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    auth_user: str | None
    tls: bool
    received_at: float  # time.time() when DATA completed

    @property
    def message(self) -> EmailMessage:
        """The raw bytes parsed with the modern email policy."""
        message = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class _Failure:
    code: int
    text: str
    remaining: int | None  # None: forever
    stage: Stage


class _Handler:
    """aiosmtpd handler: applies the failure script, stores accepted messages."""

    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_MAIL(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        failure = self._server._take_failure("mail")
        if failure is not None:
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        failure = self._server._take_failure("rcpt")
        if failure is not None:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        failure = self._server._take_failure("data")
        if failure is not None:
            return failure
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        auth_user = session.auth_data if isinstance(session.auth_data, str) else None
        self._server._store(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                raw=bytes(raw or b""),
                auth_user=auth_user,
                tls=self._server.security == "ssl" or session.ssl is not None,
                received_at=time.time(),
            )
        )
        return "250 Message accepted for delivery"


class SmtpServer(ManagedServer):
    """aiosmtpd on 127.0.0.1 and a free port, in its own thread."""

    def __init__(
        self,
        security: Security = "none",
        auth: AuthMode | None = None,
        users: dict[str, str] | None = None,
        *,
        host: str = "127.0.0.1",
    ) -> None:
        if auth is None:
            auth = "none" if security == "none" else "optional"
        if auth != "none" and security == "none":
            raise ValueError("AUTH is only offered over TLS: use security='starttls' or 'ssl'")
        self.security: Security = security
        self.auth: AuthMode = auth
        self.host = host
        self.port = 0
        self.users: dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        self.messages: list[ReceivedMessage] = []
        # (stage, code) of every scripted rejection answered so far
        self.rejections: list[tuple[Stage, int]] = []
        self.auth_failures = 0
        self.start_seconds: float | None = None
        self._failures: list[_Failure] = []
        self._cond = threading.Condition()
        self._controller: Controller | None = None
        self._dir: Path | None = None
        self.ca_pem: Path | None = None
        self._server_ctx: ssl.SSLContext | None = None
        if security != "none":
            self._dir = Path(tempfile.mkdtemp(prefix="intake-smtp-"))
            self.ca_pem, cert_pem, key_pem = make_cert(self._dir)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(cert_pem), str(key_pem))
            self._server_ctx = ctx

    # --------------------------------------------------------------- lifecycle

    def _controller_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "server_hostname": "smtp.intake.test",
            "ready_timeout": START_TIMEOUT,
            "enable_SMTPUTF8": True,
        }
        if self.security == "starttls":
            kwargs["tls_context"] = self._server_ctx
            kwargs["require_starttls"] = self.auth == "required"
        elif self.security == "ssl":
            kwargs["ssl_context"] = self._server_ctx
        if self.auth != "none":
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_required"] = self.auth == "required"
            # aiosmtpd only counts STARTTLS as TLS; under implicit TLS the whole
            # connection is encrypted, so AUTH need not wait for STARTTLS.
            kwargs["auth_require_tls"] = self.security == "starttls"
        return kwargs

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("SMTP server already running")
        began = time.monotonic()
        last_error: OSError | None = None
        for _ in range(3):
            port = free_port(self.host)
            controller = Controller(
                _Handler(self), hostname=self.host, port=port, **self._controller_kwargs()
            )
            try:
                controller.start()
            except OSError as exc:  # a port race with another process: pick another port
                last_error = exc
                if exc.errno != errno.EADDRINUSE:
                    break
                continue
            self._controller = controller
            self.port = port
            self.start_seconds = time.monotonic() - began
            return
        raise ServerStartError(f"aiosmtpd could not start on {self.host}: {last_error}")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def cleanup(self) -> None:
        self.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


    # ------------------------------------------------------------------ script

    def fail_next(self, code: int, message: str = "", times: int | None = 1, stage: Stage = "rcpt") -> None:
        """Answer the next `times` MAIL/RCPT/DATA commands (per `stage`) with `code message`.

        `times=None` fails forever. Each RCPT command counts once, so a message
        to two recipients uses up two. Scripts queue: they apply in order.
        """
        if not 400 <= code <= 599:
            raise ValueError("a failure needs a 4xx or 5xx code")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        text = message or ("4.3.0 Temporary failure" if code < 500 else "5.0.0 Permanent failure")
        with self._cond:
            self._failures.append(_Failure(code, text, times, stage))

    def clear_failures(self) -> None:
        with self._cond:
            self._failures.clear()

    def _take_failure(self, stage: Stage) -> str | None:
        with self._cond:
            for failure in self._failures:
                if failure.stage != stage:
                    continue
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        self._failures.remove(failure)
                self.rejections.append((stage, failure.code))
                return f"{failure.code} {failure.text}"
        return None

    # -------------------------------------------------------------- messages

    def _store(self, message: ReceivedMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if self.users.get(user) == password:
                return AuthResult(success=True, auth_data=user)
        with self._cond:
            self.auth_failures += 1
        return AuthResult(success=False, handled=False)

    def wait_for(self, n: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Block until at least `n` messages were accepted; return them all. TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise TimeoutError(f"expected {n} message(s) within {timeout}s, got {len(self.messages)}")
            return list(self.messages)

    def reset(self) -> None:
        """Forget accepted messages, rejections and the failure script."""
        with self._cond:
            self.messages.clear()
            self.rejections.clear()
            self._failures.clear()
            self.auth_failures = 0

    # ------------------------------------------------------------------ client

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's CA (TLS variants only)."""
        if self.ca_pem is None:
            raise RuntimeError("this SMTP server has no TLS")
        return ssl.create_default_context(cafile=str(self.ca_pem))
