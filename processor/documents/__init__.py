"""Attachments into Outlines: classify, convert legacy formats, parse, isolate.

`DocumentReader.read` works in-process: it classifies the attachment by its
bytes, parses a .docx directly, and converts .doc/.rtf/.odt/HTML-as-.doc to
.docx with LibreOffice first. `DocumentReader.read_isolated` runs the same
`read` in a child process (`python -m intake.processor.documents.worker`) under
an address-space limit, a CPU limit and a wall-clock timeout, because the bytes
come from strangers (zip bombs, pathological XML, converter hangs).

Both raise only `UnreadableDocument`, `EncryptedDocument` or
`UnsupportedDocument` for problems with the document itself.

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

import dataclasses
import enum
import fcntl
import functools
import hashlib
import json
import logging
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intake.parsers.errors import (
    DocumentError,
    EncryptedDocument,
    UnreadableDocument,
    UnsupportedDocument,
)
from intake.parsers.filetype import DOC_SUFFIXES, DOCX_SUFFIXES, Sniffed, html_from_mhtml, sniff, suffix_of
from intake.parsers.model import Attachment, FileKind, Outline
from intake.parsers.word import DocxLimits, parse_docx
from intake.processor.documents import lifeline

__all__ = [
    "LIMIT_EXCEEDED",
    "NO_LIBREOFFICE",
    "DocumentReader",
    "ReaderLimits",
    "from_json_as",
    "outline_from_json",
    "outline_to_json",
]

log = logging.getLogger(__name__)

NO_LIBREOFFICE = "LibreOffice is not installed: cannot convert legacy .doc"
LIMIT_EXCEEDED = "exceeded memory/time limit"
WORKER_MODULE = "intake.processor.documents.worker"

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

    # ------------------------------------------------------------ isolated

    def read_isolated(self, att: Attachment) -> Outline:
        """`read` in a child process under memory, CPU and wall-clock limits.

        Errors raised in the child come back as the same DocumentError classes;
        a child killed or out of memory/time gives
        `UnreadableDocument("exceeded memory/time limit")`.
        """
        limits = self.limits
        if len(att.data) > limits.max_bytes:
            raise UnreadableDocument(f"file too large ({len(att.data)} bytes > {limits.max_bytes})")
        request = pickle.dumps((att, dataclasses.replace(limits, soffice=self._soffice or "")))
        command = [
            sys.executable, "-I", "-m", WORKER_MODULE,
            "--memory-mb", str(limits.memory_mb),
            "--cpu-seconds", str(max(1, int(limits.timeout_seconds + 0.999))),
        ]
        try:
            proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise UnreadableDocument(f"cannot start the document worker: {exc}") from exc
        try:
            stdout, stderr = proc.communicate(request, timeout=limits.worker_wall_seconds)
        except subprocess.TimeoutExpired as exc:
            # SIGTERM first so that the worker kills its LibreOffice, then everything.
            with suppress(ProcessLookupError):
                proc.terminate()
            try:
                proc.communicate(timeout=3)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.communicate()
            log.warning("document worker killed after %.0f s", limits.worker_wall_seconds)
            raise UnreadableDocument(LIMIT_EXCEEDED) from exc
        finally:
            _kill_group(proc.pid)
            if proc.poll() is None:
                proc.wait()
        return _worker_result(proc.returncode, stdout, stderr)


# How each kind of file becomes an outline (or why it cannot); kinds not here are judged by their name.
READERS: dict[FileKind, Callable[[DocumentReader, Attachment, Sniffed], Outline]] = {
    FileKind.DOCX: DocumentReader._docx,
    FileKind.DOC: DocumentReader._converted,
    FileKind.OTHER_WORDLIKE: DocumentReader._converted,
    FileKind.ENCRYPTED: DocumentReader._encrypted,
    FileKind.PDF: DocumentReader._not_word,
    FileKind.IMAGE: DocumentReader._not_word,
}


def _worker_result(returncode: int, stdout: bytes, stderr: bytes) -> Outline:
    """The Outline, or the re-raised error, from a finished worker."""
    if returncode < 0:
        log.warning("document worker died of signal %d", -returncode)
        raise UnreadableDocument(LIMIT_EXCEEDED)
    try:
        reply = json.loads(stdout)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        log.error("document worker failed (exit status %d): %s", returncode, " | ".join(tail))
        raise UnreadableDocument(f"document reader failed (exit status {returncode})")
    if "outline" in reply:
        try:
            return outline_from_json(reply["outline"])
        except (TypeError, ValueError, KeyError) as exc:
            raise UnreadableDocument(f"document worker sent a malformed outline: {exc}") from exc
    error_class = _ERRORS.get(str(reply.get("error")), UnreadableDocument)
    raise error_class(str(reply.get("message", "")))


_ERRORS: dict[str, type[DocumentError]] = {
    cls.__name__: cls for cls in (UnreadableDocument, EncryptedDocument, UnsupportedDocument)
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


# ---------------------------------------------------------------- Outline <-> JSON


def outline_to_json(outline: Outline) -> dict[str, Any]:
    """A JSON-ready dict of an Outline (enums as their values, tuples as lists)."""
    return typing.cast(dict[str, Any], to_json(outline))


def to_json(value: Any) -> Any:
    """A frozen dataclass of parsers.model as JSON-ready values: objects for dataclasses, lists for
    tuples, str enums as they are (a str), numbers, None. `dataclasses.asdict` gives the same, but
    deep-copies every value on the way (a millisecond per outline)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, tuple):
        return [to_json(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: to_json(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, str | int | float):  # str enums, and subclasses of the plain types
        return value
    raise TypeError(f"not JSON-ready: {type(value).__name__}")


_PLAIN = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def outline_from_json(data: Any) -> Outline:
    """The Outline `outline_to_json` made; strict about the shape."""
    return from_json_as(Outline, data)


T = typing.TypeVar("T")


def from_json_as(cls: type[T], data: Any) -> T:
    """A frozen dataclass of parsers.model (Outline, SectionResult) from its `to_json` JSON."""
    value = _decoder(typing.cast(Any, cls))(data)
    assert isinstance(value, cls)
    return value


@functools.cache
def _fields_of(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, resolved type hint) of each field: resolving hints is slow, so once per class."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


Decoder = Callable[[Any], Any]


@functools.cache
def _decoder(hint: Any) -> Decoder:
    """The strict decoder of values of type `hint`, made once per type from its hints: checking
    each value against its type anew was more than a millisecond per outline."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        return _tuple_decoder(args)
    if origin in (typing.Union, types.UnionType):
        return _union_decoder(args)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return typing.cast(Decoder, hint)  # ValueError for a value it does not have
    if hint is float:
        return _float
    if hint in (str, int, bool):
        return functools.partial(_exactly, hint)
    raise TypeError(f"unsupported field type {hint!r}")


def _dataclass_decoder(cls: type) -> Decoder:
    fields = [(name, _decoder(hint)) for name, hint in _fields_of(cls)]

    def decode(value: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"{cls.__name__}: expected an object")
        return cls(**{name: field(value[name]) for name, field in fields if name in value})
    return decode


def _tuple_decoder(args: tuple[Any, ...]) -> Decoder:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])

        def decode_all(value: Any) -> tuple[Any, ...]:
            if not isinstance(value, list):
                raise TypeError("expected a list")
            return tuple([item(one) for one in value])
        return decode_all
    items = [_decoder(arg) for arg in args]

    def decode_each(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise TypeError("expected a list")
        return tuple(decode(one) for decode, one in zip(items, value, strict=True))
    return decode_each


def _union_decoder(args: tuple[Any, ...]) -> Decoder:
    optional = type(None) in args
    alternatives = [_decoder(arg) for arg in args if arg is not type(None)]

    def decode(value: Any) -> Any:
        if value is None and optional:
            return None
        errors: list[Exception] = []
        for alternative in alternatives:
            try:
                return alternative(value)
            except (TypeError, ValueError) as exc:
                errors.append(exc)
        raise TypeError(f"no alternative matches: {errors}")
    return decode


def _float(value: Any) -> float:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not float:
        raise TypeError(f"expected float, got {type(value).__name__}")
    return value


def _exactly(kind: type, value: Any) -> Any:
    if type(value) is not kind:
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value
