"""SMTP transport: implicit TLS, STARTTLS or plain (loopback only), AUTH or XOAUTH2.

One connection is opened on the first message and kept for the round. Errors
are translated here: a 5xx reply to MAIL, RCPT or DATA is a
`PermanentSendError` carrying the server's reply; a 4xx reply, a network or
TLS failure, or a rejected login is a `SendError` (retried with backoff: a
wrong password or an expired token is fixed by staff, not by the message).
After a connection-level failure the rest of the round fails fast with the
same reason instead of waiting for a timeout per message.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable

from intake.parsers.errors import IntakeError, PermanentSendError, SendError
from intake.processor.config import SmtpConfig
from intake.processor.i18n import _, with_detail
from intake.processor.sending.transport import Envelope

log = logging.getLogger(__name__)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


def _by_code(code: int, text: bytes | str, what: str) -> SendError:
    message = with_detail(what, _reply(code, text))
    if 500 <= code <= 599:
        return PermanentSendError(message)
    return SendError(message)


def xoauth2_string(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (smtplib base64-encodes it)."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"


class SmtpTransport:
    def __init__(self, cfg: SmtpConfig, token_source: Callable[[], str] | None = None) -> None:
        self.cfg = cfg
        self._token_source = token_source
        self._client: smtplib.SMTP | None = None
        self._down: SendError | None = None

    @property
    def where(self) -> str:
        return f"smtp {self.cfg.host}:{self.cfg.port} ({self.cfg.security})"

    # -- connection ---------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.cfg.ca_file) if self.cfg.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        cfg = self.cfg
        try:
            client: smtplib.SMTP
            if cfg.security == "ssl":
                client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=self._context())
            else:
                client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            try:
                client.ehlo()
                if cfg.security == "starttls":
                    client.starttls(context=self._context())
                    client.ehlo()
                self._login(client)
            except BaseException:
                client.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(_("{server}: login as {user} refused: {reply}", server=self.where, user=cfg.username,
                              reply=_reply(exc.smtp_code, exc.smtp_error))) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise SendError(f"{self.where}: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"{self.where}: {_reply(exc.smtp_code, exc.smtp_error)}") from exc
        except ssl.SSLCertVerificationError as exc:
            raise SendError(_("{server}: certificate not trusted: {reason}", server=self.where,
                              reason=exc.verify_message)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(_("{server}: cannot connect: {reason}", server=self.where, reason=exc)) from exc
        return client

    def _login(self, client: smtplib.SMTP) -> None:
        cfg = self.cfg
        if not cfg.username:
            return
        if cfg.oauth2_token_command or cfg.oauth2_token_file:
            token = self._token()
            # On a refused token Gmail sends a 334 challenge (a JSON error) and expects
            # an empty line; smtplib then raises SMTPAuthenticationError with the reply.
            client.auth("XOAUTH2", lambda challenge=None: xoauth2_string(cfg.username, token)
                        if challenge is None else "")
            return
        if not cfg.password.value:
            raise SendError(_("{server}: no password found in {source}", server=self.where, source=cfg.password.source))
        client.login(cfg.username, cfg.password.value)

    def _token(self) -> str:
        if self._token_source is not None:
            return self._token_source()
        from intake.processor.credentials import oauth2_token

        try:
            return oauth2_token(self.cfg.oauth2_token_command, self.cfg.oauth2_token_file)
        except IntakeError as exc:
            raise SendError(_("{server}: no OAuth2 token: {reason}", server=self.where, reason=exc)) from exc

    def _connection(self) -> smtplib.SMTP:
        if self._down is not None:
            raise SendError(str(self._down))
        if self._client is None:
            try:
                self._client = self._connect()
            except SendError as exc:
                self._down = exc
                raise
        return self._client

    # -- Transport ----------------------------------------------------------------

    def send(self, envelope: Envelope) -> None:
        client = self._connection()
        recipients = ", ".join(envelope.recipients)
        try:
            client.sendmail(envelope.sender, list(envelope.recipients), envelope.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _by_code(code, text, _("recipient {recipients} refused", recipients=recipients)) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error, _("sender {sender} refused", sender=envelope.sender)) from exc
        except smtplib.SMTPDataError as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error, _("message refused")) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise _by_code(exc.smtp_code, exc.smtp_error, _("server answered")) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            self._down = SendError(_("{server}: connection lost: {reason}", server=self.where, reason=exc))
            raise self._down from exc
        log.info("sent %s to %s", envelope.label, recipients)

    def probe(self) -> str:
        """For check-config: connect, secure, log in; the exact reason on failure."""
        client = self._connect()
        try:
            client.noop()
        finally:
            self._quit(client)
        login = _("logged in as {name}", name=self.cfg.username) if self.cfg.username else _("no login configured")
        return _("{server}: connected, {login}", server=self.where, login=login)

    def close(self) -> None:
        if self._client is not None:
            self._quit(self._client)
            self._client = None

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @staticmethod
    def _quit(client: smtplib.SMTP) -> None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()  # the server hung up first: nothing left to say
