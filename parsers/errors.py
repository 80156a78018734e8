"""The project's one exception tree, for every stage (parsers, store, processor, CLI, web).

It lives in the lowest layer (parsers/ imports nothing of the others) so that
every stage can raise and catch the same classes without importing upwards;
nothing else defines an intake exception.

    IntakeError                      base of everything intake raises on purpose
    ├── ConfigError                  bad or unreadable configuration (CLI exit 2)
    ├── UsageError                   bad command-line usage or staff input (CLI exit 2)
    ├── ParseError                   input from a stranger that cannot be used
    │   └── DocumentError            an attachment cannot be read as a report
    │       ├── UnreadableDocument   corrupt, truncated, over a size limit
    │       ├── EncryptedDocument    password-protected
    │       └── UnsupportedDocument  not Word, or no converter for it here
    ├── StoreError                   the database or files directory failed
    ├── MailboxError                 IMAP/Maildir failure (network, login, folder)
    │   └── MailboxAuthError         credentials rejected: retrying will not help
    ├── CredentialError              no OAuth2 token could be obtained (command, file)
    ├── HeaderError                  a header we were about to write failed validation
    ├── SendError                    SMTP or outbox failure
    │   └── PermanentSendError       the server refused for good (5xx)
    └── ExportError                  an export could not be built or written

Third-party errors are translated where they enter (`raise X(...) from exc`).
"""
from __future__ import annotations


class IntakeError(Exception):
    """Base of every error intake raises on purpose."""


class ConfigError(IntakeError):
    """The configuration is missing, unparseable or has a bad value.

    `key` names the offending key (e.g. "[mailbox] security"), `path` the file.
    """

    def __init__(self, problem: str, *, key: str | None = None, path: str | None = None) -> None:
        self.problem = problem
        self.key = key
        self.path = path
        where = f"{path}: " if path else ""
        what = f"{key}: " if key else ""
        super().__init__(f"{where}{what}{problem}")


class UsageError(IntakeError):
    """Bad command-line usage or staff input: unknown unit, bad reference, bad output file (exit 2)."""


class ParseError(IntakeError):
    """Input from a stranger that cannot be used."""


class DocumentError(ParseError):
    """An attachment cannot be read as a Word report."""


class UnreadableDocument(DocumentError):
    """Corrupt, truncated, or over a size/decompression limit."""


class EncryptedDocument(DocumentError):
    """Password-protected (OLE container with EncryptedPackage)."""


class UnsupportedDocument(DocumentError):
    """Not a Word file, or no converter for it on this machine."""


class StoreError(IntakeError):
    """The database or the files directory failed."""


class MailboxError(IntakeError):
    """The mailbox could not be read (network, server, folder)."""


class MailboxAuthError(MailboxError):
    """The mailbox rejected the credentials; retrying will not help."""


class CredentialError(IntakeError):
    """No OAuth2 access token could be obtained from the configured command or file."""


class HeaderError(IntakeError):
    """Mail we composed would carry an unsafe header (injected line, control character); not sent."""


class SendError(IntakeError):
    """Outgoing mail could not be delivered (transient unless Permanent)."""


class PermanentSendError(SendError):
    """The SMTP server refused the message for good (5xx)."""


class ExportError(IntakeError):
    """An export could not be built or written."""
