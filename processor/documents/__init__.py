"""Attachments into Outlines: classify, convert legacy formats, parse, isolate.

`DocumentReader.read` classifies the attachment by its bytes, parses a .docx
directly, and converts .doc/.rtf/.odt/HTML-as-.doc to .docx with LibreOffice
first. It raises only `UnreadableDocument`, `EncryptedDocument` or
`UnsupportedDocument` for problems with the document itself. The bytes come
from strangers (zip bombs, pathological XML, converter hangs): intake runs it
in a worker process under limits (`processor/reading/harness.py`).

Conversions go to `office.Office` (one LibreOffice kept running, driven
through UNO) when the reader is given one, as the pool's workers are; else
LibreOffice is started for each conversion. Either way it runs headless with
a profile of its own under the reader's work directory, one conversion at a
time (per-conversion: a thread lock per reader plus a file lock beside the
profile, for other processes), network fetches sent to a dead proxy, in a
fresh temporary directory where the input is named by its SHA-256 and a fixed
suffix: the sender's file name never reaches the file system or the command
line.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from intake.parsers.errors import (
    EncryptedDocument,
    UnreadableDocument,
    UnsupportedDocument,
)
from intake.parsers.filetype import DOC_SUFFIXES, DOCX_SUFFIXES, Sniffed, html_from_mhtml, sniff, suffix_of
from intake.parsers.model import Attachment, FileKind, Outline
from intake.parsers.word import DocxLimits, parse_docx
from intake.processor.documents import lifeline

__all__ = ["NO_LIBREOFFICE", "DocumentReader", "ReaderLimits"]

log = logging.getLogger(__name__)

NO_LIBREOFFICE = "LibreOffice is not installed: cannot convert legacy .doc"

# Input suffix and LibreOffice import filter per sniffed format. The suffix is
# fixed by the format, never taken from the sender's file name.
_CONVERSIONS: dict[str, tuple[str, str | None]] = {
    "doc": (".doc", None),
    "rtf": (".rtf", None),
    "odt": (".odt", None),
    "wordml2003": (".xml", None),
    # Without an explicit filter LibreOffice opens HTML in Writer/Web.
    "html": (".html", "HTML (StarWriter)"),
    "mhtml": (".html", "HTML (StarWriter)"),
}
_EXPORT_FILTER = "docx:MS Word 2007 XML"

# Every network fetch of LibreOffice (linked images in HTML, remote templates)
# goes through a proxy on the discard port, i.e. nowhere. Macros are off.
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
{items}
</oor:items>
"""
_PROFILE_ITEMS = (
    ("/org.openoffice.Inet/Settings", "ooInetProxyType", "2"),
    ("/org.openoffice.Inet/Settings", "ooInetNoProxy", ""),
    *(
        ("/org.openoffice.Inet/Settings", f"ooInet{scheme}Proxy{key}", value)
        for scheme in ("HTTP", "HTTPS", "FTP")
        for key, value in (("Name", "127.0.0.1"), ("Port", "9"))
    ),
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
)


@dataclass(frozen=True)
class ReaderLimits:
    """How much a single attachment may cost.

    `timeout_seconds` bounds one LibreOffice conversion (wall clock) and the
    CPU time of the isolated worker; the worker's wall clock is
    `2 * timeout_seconds + 5` (it may wait for another conversion's lock).
    `memory_mb` is the worker's address-space limit (LibreOffice, started by
    the worker, inherits it). `soffice` is the LibreOffice binary, None to look
    for `soffice`/`libreoffice` on PATH. `work_dir` holds the LibreOffice
    profile, its lock and the temporary conversion directories; None means
    `<system temp>/intake-soffice-<uid>`.
    """

    max_bytes: int = 30 * 1024 * 1024
    docx: DocxLimits = field(default_factory=DocxLimits)
    timeout_seconds: float = 60.0
    memory_mb: int = 1024
    soffice: str | None = None
    work_dir: str | None = None

    @property
    def worker_wall_seconds(self) -> float:
        return 2 * self.timeout_seconds + 5


class Converter(typing.Protocol):
    """Converts `source` to .docx at `target` (both in a conversion directory of the work directory):
    '' on success, else LibreOffice's reason; UnreadableDocument when it hung or died."""

    def convert(self, source: Path, target: Path, infilter: str | None, timeout: float) -> str: ...


class DocumentReader:
    """Reads attachments into Outlines; safe to share between threads."""

    def __init__(self, limits: ReaderLimits | None = None, office: Converter | None = None) -> None:
        """`office` converts with a LibreOffice kept running (`office.Office`, or the pool's through
        its worker); without it every conversion starts LibreOffice of its own."""
        self.limits = limits if limits is not None else ReaderLimits()
        self.office = office
        self._convert_lock = threading.Lock()
        self._soffice = _find_soffice(self.limits.soffice)

    @property
    def soffice(self) -> str | None:
        """The LibreOffice binary conversions use, None when there is none."""
        return self._soffice

    # ------------------------------------------------------------ in-process

    def read(self, att: Attachment) -> Outline:
        """Classify, convert if needed, and parse one attachment in this process."""
        limits = self.limits
        if len(att.data) > limits.max_bytes:
            raise UnreadableDocument(f"file too large ({len(att.data)} bytes > {limits.max_bytes})")
        sniffed = sniff(att.filename, att.content_type, att.data)
        reader = READERS.get(sniffed.kind)
        if reader is not None:
            return reader(self, att, sniffed)
        suffix = suffix_of(att.filename)
        if suffix in DOCX_SUFFIXES or suffix in DOC_SUFFIXES:
            # Named like a Word file but nothing Word-like inside: a broken report,
            # not a file of another kind.
            raise UnreadableDocument(f"named {suffix} but is not a Word document ({sniffed.label})")
        raise UnsupportedDocument(f"{sniffed.label} is not a Word document")

    def _docx(self, att: Attachment, sniffed: Sniffed) -> Outline:
        return parse_docx(att.data, self.limits.docx)

    def _converted(self, att: Attachment, sniffed: Sniffed) -> Outline:
        return parse_docx(self.convert_to_docx(att.data, sniffed), self.limits.docx)

    def _encrypted(self, att: Attachment, sniffed: Sniffed) -> Outline:
        raise EncryptedDocument(f"{sniffed.label}: cannot be read without its password")

    def _not_word(self, att: Attachment, sniffed: Sniffed) -> Outline:
        raise UnsupportedDocument(f"{sniffed.label} is not a Word document")

    def convert_to_docx(self, data: bytes, sniffed: Sniffed) -> bytes:
        """Convert a legacy or foreign word-processing file to .docx bytes."""
        if self._soffice is None:
            raise UnsupportedDocument(NO_LIBREOFFICE)
        try:
            suffix, infilter = _CONVERSIONS[sniffed.fmt]
        except KeyError:
            raise UnsupportedDocument(f"no converter for {sniffed.label}") from None
        payload = data
        if sniffed.fmt == "mhtml":
            html = html_from_mhtml(data)
            if html is None:
                raise UnreadableDocument("web archive without an HTML part")
            payload = html
        root = self.work_root()
        name = hashlib.sha256(data).hexdigest()
        with tempfile.TemporaryDirectory(prefix="conv-", dir=root) as tmp:
            workdir = Path(tmp)
            source = workdir / f"{name}{suffix}"
            source.write_bytes(payload)
            result = workdir / f"{name}.docx"
            started = time.monotonic()
            if self.office is not None:
                stderr = self.office.convert(source, result, infilter, self.limits.timeout_seconds)
            else:
                with self._convert_lock, _file_lock(root / "soffice.lock"):
                    stderr = self._convert_once(root, workdir, source, infilter)
            if not result.is_file():
                raise UnreadableDocument(f"LibreOffice could not convert the {sniffed.label}: {stderr}")
            size = result.stat().st_size
            if size > self.limits.docx.max_file_bytes:
                raise UnreadableDocument(f"converted document too large ({size} bytes)")
            converted = result.read_bytes()
        log.info("converted %s (%d bytes) to .docx (%d bytes) in %.2f s",
                 sniffed.fmt, len(data), len(converted), time.monotonic() - started)
        return converted

    def _convert_once(self, root: Path, workdir: Path, source: Path, infilter: str | None) -> str:
        """A LibreOffice of its own for this conversion (no Office kept running): its diagnostics."""
        assert self._soffice is not None
        profile = root / "profile"
        prepare_profile(profile)
        # Held under soffice.lock, so no LibreOffice of ours runs on this profile now: a lock file there
        # is a killed one's, which would make LibreOffice refuse or ask (LibreOffice's user-profile lock).
        (profile / ".lock").unlink(missing_ok=True)
        command = [
            self._soffice, "--headless", "--invisible", "--norestore", "--nologo",
            "--nodefault", "--nolockcheck", "--nofirststartwizard",
            f"-env:UserInstallation={profile.as_uri()}",
        ]
        if infilter is not None:
            command.append(f"--infilter={infilter}")
        command += ["--convert-to", _EXPORT_FILTER, "--outdir", str(workdir), str(source)]
        return self._run_soffice(command, workdir, profile)

    def _run_soffice(self, command: list[str], workdir: Path, profile: Path) -> str:
        """Run one conversion; returns the tail of its diagnostics."""
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(workdir),
            "TMPDIR": str(workdir),
            "LANG": "C.UTF-8",
            "SAL_USE_VCLPLUGIN": "svp",
        }
        timeout = self.limits.timeout_seconds
        try:
            # Through the lifeline: LibreOffice (oosplash and soffice.bin) ends with this process.
            proc, line = lifeline.start(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except FileNotFoundError as exc:
            raise UnsupportedDocument(NO_LIBREOFFICE) from exc
        except OSError as exc:
            raise UnsupportedDocument(f"cannot start LibreOffice: {exc}") from exc
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc.pid)
            proc.communicate()
            # A killed instance may leave its profile half-written: start afresh.
            shutil.rmtree(profile, ignore_errors=True)
            log.warning("LibreOffice conversion killed after %.0f s", timeout)
            raise UnreadableDocument(f"LibreOffice conversion timed out after {timeout:.0f} s") from exc
        finally:
            # Whatever happened (also SystemExit from a signal in the worker),
            # nothing of this conversion outlives it.
            _kill_group(proc.pid)
            if proc.poll() is None:
                proc.wait()
            os.close(line)
        text = output.decode("utf-8", "replace").strip()
        tail = " | ".join(line for line in text.splitlines()[-3:] if "javaldx" not in line)
        if proc.returncode != 0:
            if proc.returncode < 0:
                shutil.rmtree(profile, ignore_errors=True)
            return f"exit status {proc.returncode}: {tail}"
        return tail or "no output produced"

    def work_root(self) -> Path:
        configured = self.limits.work_dir
        if configured:
            root = Path(configured)
        else:
            root = Path(tempfile.gettempdir()) / f"intake-soffice-{os.getuid()}"
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.lstat(root)
        except OSError as exc:
            raise UnsupportedDocument(f"cannot convert: work directory {root}: {exc}") from exc
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
            raise UnsupportedDocument(f"cannot convert: work directory {root} is not private to this user")
        return root


# How each kind of file becomes an outline (or why it cannot); kinds not here are judged by their name.
READERS: dict[FileKind, Callable[[DocumentReader, Attachment, Sniffed], Outline]] = {
    FileKind.DOCX: DocumentReader._docx,
    FileKind.DOC: DocumentReader._converted,
    FileKind.OTHER_WORDLIKE: DocumentReader._converted,
    FileKind.ENCRYPTED: DocumentReader._encrypted,
    FileKind.PDF: DocumentReader._not_word,
    FileKind.IMAGE: DocumentReader._not_word,
}


# ---------------------------------------------------------------- helpers


def _find_soffice(configured: str | None) -> str | None:
    """The LibreOffice binary: the configured one if it exists, else from PATH."""
    if configured is not None:
        if configured == "":
            return None
        return shutil.which(configured)
    return shutil.which("soffice") or shutil.which("libreoffice")


def _kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (LibreOffice cannot share a profile)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def prepare_profile(profile: Path) -> None:
    """Seed a new LibreOffice profile with the no-network, no-macro settings."""
    settings = profile / "user" / "registrymodifications.xcu"
    if settings.exists():
        return
    settings.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    items = "\n".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
        for path, name, value in _PROFILE_ITEMS
    )
    settings.write_text(_PROFILE_SETTINGS.format(items=items), encoding="utf-8")
