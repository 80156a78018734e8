"""The dashboard's protections: the session key, response headers, CSRF tokens, login gate.

- Sessions are Starlette's signed cookie (itsdangerous), HttpOnly, SameSite=Strict,
  Secure when `base_url` is https; the key comes from `[web] secret_file`, else
  `INTAKE_WEB_SECRET`, else a file `intake-web.key` generated (mode 0600) beside
  the store.
- Every response carries a strict Content-Security-Policy (no script at all,
  styles from our own stylesheet only), nosniff, no framing, no referrer, and
  no caching (except the stylesheet).
- Every POST is checked by `checked_form`: the session's CSRF token must come
  back in the form, and an Origin header, when sent, must be ours.
- `LoginGate` lets through only the login page and the stylesheet without a
  session whose account still exists.
"""
from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.parsers.errors import ConfigError
from intake.processor.config import Config

log = logging.getLogger(__name__)

SECRET_ENV = "INTAKE_WEB_SECRET"
SECRET_NAME = "intake-web.key"
CSRF_FIELD = "csrf"
PUBLIC_PATHS = frozenset({"/login", "/static/web.css"})

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" would make browsers send Origin: null
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


def secret_path(cfg: Config) -> Path:
    """Where the session key lives by default: beside the SQLite file, else beside files_dir."""
    if cfg.web.secret_file is not None:
        return cfg.web.secret_file
    url = cfg.store.url
    if url.startswith("sqlite") and ":///" in url and not url.endswith(":memory:"):
        return Path(url.split(":///", 1)[1]).parent / SECRET_NAME
    return cfg.store.files_dir.parent / SECRET_NAME


def session_secret(cfg: Config, environ: Mapping[str, str]) -> str:
    """The key that signs session cookies: from the environment, or a 0600 file (created once)."""
    if cfg.web.secret_file is None and environ.get(SECRET_ENV):
        return environ[SECRET_ENV]
    path = secret_path(cfg)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("session key %s is readable by others (mode %o): chmod 600 it", path, mode)
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise ConfigError(f"{path}: a session key of at least 32 characters expected",
                              key="[web] secret_file") from None
        return key
    except OSError as exc:
        raise ConfigError(f"cannot create the session key {path}: {exc.strerror}", key="[web] secret_file") from exc
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    log.info("generated a new session key in %s", path)
    return key


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"] in ("/static/web.css",)

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in HEADERS if h[0] not in present]
                if b"cache-control" not in present:
                    extra.append((b"cache-control", b"private, max-age=3600" if static else b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, add_headers)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = new_csrf_token()
        request.session[CSRF_FIELD] = token
    return token


def same_origin(request: Request, base_url: str) -> bool:
    """True unless the browser says the request comes from another site."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    base = urlsplit(base_url)
    return origin in (own, f"{base.scheme}://{base.netloc}")


async def checked_form(request: Request, base_url: str, *, max_files: int = 0,
                       max_part_size: int = 64 * 1024) -> FormData:
    """The POSTed form, after the CSRF token and the Origin are checked (403 otherwise). Files only
    where a page takes one (`max_files`: the roster import)."""
    form = await request.form(max_files=max_files, max_fields=50, max_part_size=max_part_size)
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if (not isinstance(sent, str) or not isinstance(expected, str) or not expected
            or not hmac.compare_digest(sent.encode(), expected.encode())):
        log.warning("refused %s %s: missing or wrong CSRF token", request.method, request.url.path)
        raise HTTPException(403, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang.")
    if not same_origin(request, base_url):
        log.warning("refused %s %s: Origin %s", request.method, request.url.path, request.headers.get("origin"))
        raise HTTPException(403, "Yêu cầu từ trang khác bị từ chối.")
    return form


class LoginGate:
    """Pure ASGI middleware: no page or file without a session whose account exists.

    Runs inside SessionMiddleware. A GET without one is sent to the login page
    (with where it was going); anything else gets 403.
    """

    def __init__(self, app: ASGIApp, account_exists: Callable[[str], bool]) -> None:
        self.app = app
        self.account_exists = account_exists

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        session = scope.get("session") or {}
        user = session.get("user")
        if isinstance(user, str) and user and await run_in_threadpool(self.account_exists, user):
            scope["user_name"] = user
            await self.app(scope, receive, send)
            return
        if isinstance(user, str) and user:
            session.clear()  # the account was removed: the cookie is worthless now
        response: Response
        if scope["method"] in ("GET", "HEAD"):
            target = scope["path"] + (("?" + scope["query_string"].decode("latin-1")) if scope["query_string"] else "")
            response = RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
        else:
            response = Response("Cần đăng nhập.", status_code=403, media_type="text/plain; charset=utf-8")
        await response(scope, receive, send)


def safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme) may follow a login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
