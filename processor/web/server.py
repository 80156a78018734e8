"""`intake serve`: the dashboard under uvicorn, in the foreground or in a thread."""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette

from intake.parsers.errors import IntakeError
from intake.processor.web.security import session_secret
from intake.processor.web.site import create_app
from intake.store.users import Accounts

if TYPE_CHECKING:
    from intake.processor.services import Office

log = logging.getLogger(__name__)


def dashboard(office: Office, environ: Mapping[str, str]) -> Starlette:
    """The ASGI app over the use-case layer and its App's store and clock."""
    app = office.app
    accounts = Accounts(app.store.db)
    if not accounts.list():
        log.warning("no dashboard account yet: create one with `intake users add NAME`")
    return create_app(app.cfg, office, accounts, session_secret(app.cfg, environ), app.clock)


def _server(asgi: Starlette, host: str, port: int) -> uvicorn.Server:
    # log_config=None: keep intake's logging set-up; no Server header.
    return uvicorn.Server(uvicorn.Config(asgi, host=host, port=port, log_config=None, server_header=False,
                                         proxy_headers=True, forwarded_allow_ips="127.0.0.1", access_log=True))


def serve(asgi: Starlette, host: str, port: int) -> None:
    log.info("dashboard on http://%s:%s/", host, port)
    _server(asgi, host, port).run()


@contextmanager
def serving_in_thread(asgi: Starlette, host: str, port: int, timeout: float = 20.0) -> Iterator[str]:
    """Run the dashboard in a daemon thread; yields its base URL; stops it on exit."""
    server = _server(asgi, host, port)
    thread = threading.Thread(target=server.run, name="intake-web", daemon=True)
    thread.start()
    try:
        for _ in range(int(timeout * 20)):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        if not server.started:
            raise IntakeError(f"the dashboard did not start on {host}:{port}")
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            raise IntakeError("the dashboard thread did not stop")
