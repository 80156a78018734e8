"""The dashboard's test site: the examples' Maildir and config in a scratch folder, processed for real.

`example_site` copies `examples/maildir` and `config.example.toml` (paths
rewritten into the scratch folder, parsing in-process), runs the real
pipeline once, and adds a staff account. `site_app` opens an App on it;
`free_port` finds a loopback port for a real uvicorn server.
"""
from __future__ import annotations

import io
import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from intake.processor import cli
from intake.processor.app import App, open_store
from intake.processor.config import load_config
from intake.processor.services import Office
from intake.processor.web.accounts import hash_password
from intake.store.models import utcnow
from intake.store.users import Accounts

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "hoa", "mat-khau-thu-nghiem"
SECRET = "s" * 48


def example_config(tmp: Path) -> Path:
    shutil.copytree(ROOT / "examples" / "maildir", tmp / "maildir")
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for key, value in (("url", f"sqlite:///{tmp / 'intake.db'}"), ("files_dir", str(tmp / "files")),
                       ("path", str(tmp / "maildir")), ("outbox_dir", str(tmp / "outbox"))):
        text, n = re.subn(rf'^{key} = "[^"]*"', f'{key} = "{value}"', text, count=1, flags=re.MULTILINE)
        assert n == 1, key
    path = tmp / "intake.toml"
    path.write_text("isolate_parsing = false\n" + text + f'\n[web]\nsecret_file = "{tmp / "web.key"}"\n',
                    encoding="utf-8")
    return path


def example_site(tmp: Path) -> Path:
    """A processed store from the examples, with one account (USER, PASSWORD); the config's path."""
    path = example_config(tmp)
    with redirect_stdout(io.StringIO()):
        assert cli.main(["--config", str(path), "-q", "run", "--once"], {}) == 0
    app = site_app(path)
    try:
        Accounts(app.store.db).add(USER, hash_password(PASSWORD), utcnow())
    finally:
        app.store.close()
    return path


def clone_site(src: Path, dst: Path) -> Path:
    """A copy of a closed site (store, files, maildir) in `dst`; its config's path."""
    shutil.copytree(src, dst, dirs_exist_ok=True)
    config = dst / "intake.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(str(src), str(dst)), encoding="utf-8")
    return config


def site_app(path: Path) -> App:
    cfg = load_config(path, {})
    return App(cfg, open_store(cfg))


@contextmanager
def served_site(root: Path) -> Iterator[tuple[str, Office]]:
    """The example site in `root`, served by uvicorn on a loopback port: (its URL, its Office)."""
    from intake.processor.web.server import serving_in_thread
    from intake.processor.web.site import create_app

    app = site_app(example_site(root))
    office = Office(app)
    asgi = create_app(app.cfg, office, Accounts(app.store.db), SECRET, app.clock)
    try:
        with serving_in_thread(asgi, "127.0.0.1", free_port()) as url:
            yield url, office
    finally:
        app.store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
