"""The dashboard's site: every route, the login gate and the session, assembled into one Starlette app.

The pages themselves are `app.Dashboard`'s (campaign status, units, messages, decisions, exports) and
`catalog_pages.CatalogPages`' (campaigns and roster); both are wired here, so neither imports the other.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib.resources import files
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.parsers.errors import UsageError
from intake.processor.config import Config
from intake.processor.web.accounts import Logins
from intake.processor.web.app import SESSION_COOKIE, SESSION_HOURS, Dashboard
from intake.processor.web.catalog_pages import CatalogPages
from intake.processor.web.security import LoginGate, SecurityHeaders
from intake.store.users import Accounts

if TYPE_CHECKING:
    from intake.processor.services import Office


async def stylesheet(request: Request) -> Response:
    css = (files("intake.templates") / "web" / "web.css").read_bytes()
    return Response(css, media_type="text/css; charset=utf-8")


def create_app(cfg: Config, office: Office, accounts: Accounts, secret: str,
               clock: Callable[[], dt.datetime]) -> Starlette:
    web = Dashboard(cfg, office, accounts, Logins(accounts, clock), clock)
    routes = [
        Route("/login", web.login_form, methods=["GET"]),
        Route("/login", web.login, methods=["POST"]),
        Route("/logout", web.logout, methods=["POST"]),
        Route("/static/web.css", stylesheet, methods=["GET"]),
        Route("/", web.overview, methods=["GET"]),
        Route("/search", web.search, methods=["GET"]),
        Route("/units/{unit_id}", web.unit, methods=["GET"]),
        Route("/units/{unit_id}/excuse", web.excuse, methods=["POST"]),
        Route("/units/{unit_id}/extend", web.extend, methods=["POST"]),
        Route("/units/{unit_id}/resend", web.resend, methods=["POST"]),
        Route("/messages", web.message, methods=["GET"]),
        Route("/messages/attachment", web.attachment, methods=["GET"]),
        Route("/messages/section", web.choose_section, methods=["POST"]),
        Route("/messages/retry", web.retry, methods=["POST"]),
        Route("/unmatched", web.unmatched, methods=["GET"]),
        Route("/unmatched/link", web.link, methods=["POST"]),
        Route("/unmatched/dismiss", web.dismiss, methods=["POST"]),
        Route("/remind", web.remind, methods=["POST"]),
        Route("/decisions", web.decisions, methods=["GET"]),
        Route("/decisions/{decision_id}/revoke", web.revoke, methods=["POST"]),
        Route("/decisions/{decision_id}/corrected-ack", web.corrected_ack, methods=["POST"]),
        Route("/downloads", web.downloads, methods=["GET"]),
        Route("/exports/reports.zip", web.reports_zip, methods=["GET"]),
        Route("/exports/{fmt}", web.export, methods=["GET"]),
    ]
    routes += CatalogPages(web).routes()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if "session" not in request.scope:
            return Response(exc.detail, status_code=exc.status_code, media_type="text/plain; charset=utf-8")
        return web.problem(request, str(exc.detail), exc.status_code)

    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
                   max_age=SESSION_HOURS * 3600, same_site="strict",
                   https_only=cfg.web.base_url.startswith("https://")),
        Middleware(LoginGate, account_exists=accounts.exists),
    ]
    async def refused(request: Request, exc: Exception) -> Response:
        # A page that needs a campaign when there is none yet (or a campaign no longer there).
        return web.problem(request, f"{exc}.", 409, back="/campaigns")

    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={HTTPException: http_error, UsageError: refused})
