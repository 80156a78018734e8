"""Header values from strangers, made safe (pure; no I/O).

Everything intake writes into a header of its own mail (acknowledgements,
reminders, digests) that came from a sender's text passes through here:

- `valid_msg_id`: a Message-ID / In-Reply-To / References id must match the
  RFC 5322 msg-id syntax (`"<" dot-atom-text "@" (dot-atom-text / "[" dtext "]") ">"`)
  and hold no encoded-word opener (`=?`), else it is dropped;
- `clean_text`: subjects and display names lose every control character (CR,
  LF, NUL, C0/C1, DEL, Unicode line/paragraph separators), runs of white space
  become one space, and a leftover `=?` is broken up so that no mail library
  decodes it into something else when the header is written;
- `usable_address`: an addr-spec we are willing to write into `To:` (a dot-atom
  local part, a host name, no encoded word: RFC 2047 section 5);
- `no_reply_reason`: the addresses that never want an answer (mailer-daemon,
  postmaster, bounces, every spelling of no-reply, Google's share notices).

None of these rely on the mail library's own escaping: the composer checks
its output again (`processor/sending/compose.py`).
"""
from __future__ import annotations

import email.errors
import email.header
import re
import unicodedata

__all__ = [
    "clean_text",
    "decode_words",
    "has_control",
    "no_reply_reason",
    "usable_address",
    "valid_msg_id",
    "valid_msg_ids",
]

# RFC 5322 sets no length for an id, only for a line (998 characters): an id folded onto a line of its
# own (" <id>") is written whole up to 997 characters. Office 365 writes ids of about 90.
MAX_MSG_ID = 997
MAX_TEXT = 500        # longest subject or display name we write back
MAX_ADDRESS = 254     # RFC 5321 path limit

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_DTEXT = r"[\x21-\x5a\x5e-\x7e]"  # printable US-ASCII except "[", "]", "\"
MSG_ID = re.compile(rf"<{_DOT_ATOM}@(?:{_DOT_ATOM}|\[{_DTEXT}*\])>")

# Characters never written into a header: C0 and C1 controls, DEL, and the
# Unicode separators some mail programs turn into line breaks, and lone surrogates
# (undecodable bytes) that no database or encoder accepts.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")

# An address we write into To: an RFC 5321 mailbox in ASCII, conservative on purpose: the local part
# a dot-atom (no quoted string), the domain host-name labels (letters, digits, inner hyphens), and no
# RFC 2047 encoded word anywhere (RFC 2047 section 5: never inside an addr-spec).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS = re.compile(rf"{_DOT_ATOM}@{_LABEL}(?:\.{_LABEL})*")
MAX_LOCAL = 64        # RFC 5321 4.5.3.1.1


def valid_msg_id(value: str | None) -> str | None:
    """`value` if it is one RFC 5322 msg-id (angle brackets included), else None."""
    if not value:
        return None
    text = value.strip()
    if len(text) > MAX_MSG_ID or "=?" in text or MSG_ID.fullmatch(text) is None:
        return None
    return text


def valid_msg_ids(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The valid ids of `values`, in order, each once."""
    out: list[str] = []
    for value in values:
        ok = valid_msg_id(value)
        if ok is not None and ok not in out:
            out.append(ok)
    return tuple(out)


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """One line of display text: controls gone, white space collapsed, NFC, no `=?`, at most `limit`."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    text = " ".join(text.split())
    # A decoded value that still holds "=?" would be decoded a second time by the
    # writer's header parser: break the opener up (it means nothing to a reader).
    text = text.replace("=?", "= ?")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded (unknown charsets and bad encodings replaced), never raising."""
    if "=?" not in value:
        return value
    try:
        pieces = email.header.decode_header(value)
    except (email.errors.MessageError, ValueError, LookupError, AssertionError, IndexError):
        return value
    out: list[str] = []
    for chunk, charset in pieces:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        try:
            out.append(chunk.decode(charset or "ascii", errors="replace"))
        except LookupError:
            out.append(chunk.decode("utf-8", errors="replace"))
    return "".join(out)


def usable_address(address: str) -> str | None:
    """`address` stripped of angle brackets and white space if it is an addr-spec we may write into To:,
    else None: never one holding an encoded word, whatever it would decode to."""
    text = address.strip().strip("<>").strip()
    if not text or len(text) > MAX_ADDRESS or "=?" in text or ADDRESS.fullmatch(text) is None:
        return None
    if len(text.rpartition("@")[0]) > MAX_LOCAL:
        return None
    return text


# Local parts that never want an answer. Each: (pattern, what it is).
_NO_REPLY_LOCAL: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"mailer[-_.]?daemon"), "mailer-daemon"),
    (re.compile(r"postmaster"), "postmaster"),
    (re.compile(r"bounces?(?:[-+_.=].*)?"), "bounce address"),
    # noreply, no-reply, no_reply, no.reply, donotreply, do-not-reply, do_not_reply, dont-reply,
    # alone or with a prefix/suffix ("drive-shares-dm-noreply", "noreply-dmarc-support", "noreply+abc").
    (re.compile(r"(?:.+[-+_.])?(?:no|do[-_.]?not|dont|do[-_.]?no)[-_.]?reply(?:[-+_.=].*)?"), "no-reply address"),
)


def no_reply_reason(address: str) -> str | None:
    """Why `address` is a robot that must never be answered, else None."""
    local = address.strip().strip("<>").rpartition("@")[0].lower() or address.strip().lower()
    if "@" not in address:
        return None
    for pattern, what in _NO_REPLY_LOCAL:
        if pattern.fullmatch(local):
            return what
    return None
