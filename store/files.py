"""Content-addressed files: raw messages and attachments, named by SHA-256.

A sender's filename never becomes a path. Files are written to a temporary
name, flushed to disk and renamed, so a crash leaves either nothing or the
whole file.
"""
from __future__ import annotations

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
        digest = sha256_hex(data)
        rel = self.relative_path(digest, suffix)
        target = self.root / rel
        if target.exists() and target.stat().st_size == len(data):
            return digest, rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StoreError(f"cannot write {target}: {exc.strerror}") from exc
        return digest, rel

    def get(self, rel: str) -> bytes:
        try:
            return (self.root / rel).read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read {self.root / rel}: {exc.strerror}") from exc
