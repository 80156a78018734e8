"""Content-addressed files: raw messages and attachments, named by SHA-256.

A sender's filename never becomes a path. Files are written to a temporary
name, flushed to disk and renamed, so a crash leaves either nothing or the
whole file.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from intake.parsers.errors import StoreError


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def relative_path(self, digest: str, suffix: str) -> str:
        return f"{digest[:2]}/{digest}{suffix}"

    def put(self, data: bytes, suffix: str = "") -> tuple[str, str]:
        """Store `data`; return (sha256, path relative to root). Idempotent."""
        return self.put_many([(data, suffix)])[0]

    def put_many(self, items: list[tuple[bytes, str]]) -> list[tuple[str, str]]:
        """Store each (data, suffix): every file written first, then each flushed to disk and renamed.

        Flushing after all the writes lets the file system commit them together: the first
        fsync usually carries the others' data, so a message and its attachments cost about one."""
        placed: list[tuple[str, str]] = []
        pending: list[tuple[int, str, Path]] = []
        try:
            for data, suffix in items:
                digest = sha256_hex(data)
                rel = self.relative_path(digest, suffix)
                placed.append((digest, rel))
                target = self.root / rel
                if any(t == target for _fd, _tmp, t in pending) or (
                        target.exists() and target.stat().st_size == len(data)):
                    continue
                pending.append(self._write(target, data))
            for fd, _tmp, _target in pending:
                os.fsync(fd)
            for fd, tmp, target in pending:
                os.close(fd)
                os.replace(tmp, target)
            pending.clear()
        except OSError as exc:
            raise StoreError(f"cannot write to {self.root}: {exc.strerror}") from exc
        finally:
            for fd, tmp, _target in pending:  # left only when something failed
                with contextlib.suppress(OSError):
                    os.close(fd)
                Path(tmp).unlink(missing_ok=True)
        return placed

    @staticmethod
    def _write(target: Path, data: bytes) -> tuple[int, str, Path]:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except BaseException:
            os.close(fd)
            Path(tmp).unlink(missing_ok=True)
            raise
        return fd, tmp, target

    def get(self, rel: str) -> bytes:
        try:
            return (self.root / rel).read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read {self.root / rel}: {exc.strerror}") from exc
