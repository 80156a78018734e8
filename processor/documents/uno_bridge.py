"""One LibreOffice kept running, driven through UNO: run by the system Python (Debian's python3-uno).

    /usr/bin/python3 -I uno_bridge.py --soffice PATH --profile DIR --pipe NAME --memory-mb N

Not imported by intake: `libreoffice.LibreOffice` starts it. It sets its address-space
limit (which the LibreOffice it starts inherits), starts LibreOffice
listening on a private pipe, connects, and writes one JSON line:

    {"ready": true, "pid": <LibreOffice's pid>}   or   {"ready": false, "error": "..."}

then answers one JSON line per request line until its stdin closes:

    {"source": path, "target": path, "filter": name or null}  ->  {"ok": true} | {"ok": false, "error": "..."}

When LibreOffice dies it answers the request in hand with the error and
exits with status 3; the parent starts a new bridge. It imports only the
standard library and uno, so that the system Python can run it.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

CONNECT_SECONDS = 60.0
EXPORT_FILTER = "MS Word 2007 XML"
NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode
NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode: linked content is not fetched


def props(**values: object) -> tuple[object, ...]:
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        out.append(prop)
    return tuple(out)


def reply(message: dict[str, object]) -> None:
    """One JSON line to the parent (processor/documents/office.py) on stdout."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def start_office(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    workdir = os.path.dirname(args.profile)
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": workdir, "TMPDIR": workdir,
           "LANG": "C.UTF-8", "SAL_USE_VCLPLUGIN": "svp"}
    profile = uno.systemPathToFileUrl(args.profile)
    command = [args.soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
               "--nolockcheck", "--nofirststartwizard", f"-env:UserInstallation={profile}",
               f"--accept=pipe,name={args.pipe};urp;StarOffice.ComponentContext"]
    return subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def connect(office: subprocess.Popen[bytes], pipe: str) -> object:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except NoConnectException:
            if office.poll() is not None:
                raise RuntimeError(
                    f"LibreOffice ended with status {office.returncode} before it listened") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"LibreOffice did not listen within {CONNECT_SECONDS:.0f} s") from None
            time.sleep(0.1)


def convert(desktop: object, request: dict[str, object]) -> None:
    load: dict[str, object] = {"Hidden": True, "ReadOnly": True, "MacroExecutionMode": NEVER_EXECUTE,
                               "UpdateDocMode": NO_UPDATE}
    if request.get("filter"):
        load["FilterName"] = request["filter"]
    source = uno.systemPathToFileUrl(str(request["source"]))
    document = desktop.loadComponentFromURL(source, "_blank", 0, props(**load))  # type: ignore[attr-defined]
    if document is None:
        raise ValueError("LibreOffice could not open the file")
    try:
        target = uno.systemPathToFileUrl(str(request["target"]))
        document.storeToURL(target, props(FilterName=EXPORT_FILTER, Overwrite=True))
    finally:
        document.close(True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="uno_bridge")
    parser.add_argument("--soffice", required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--pipe", required=True)
    parser.add_argument("--memory-mb", type=int, required=True)
    args = parser.parse_args()
    memory = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    office = start_office(args)
    try:
        try:
            desktop = connect(office, args.pipe)
        except RuntimeError as exc:
            reply({"ready": False, "error": str(exc)})
            return 3
        reply({"ready": True, "pid": office.pid})
        for line in sys.stdin:
            try:
                convert(desktop, json.loads(line))
            except Exception as exc:  # noqa: BLE001 - UNO's errors have no common base here; each is answered
                reply({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]})
                if office.poll() is not None:
                    return 3
                continue
            reply({"ok": True})
        with contextlib.suppress(Exception):  # LibreOffice is killed below either way
            desktop.terminate()  # type: ignore[attr-defined]
        return 0
    finally:
        if office.poll() is None:
            office.kill()
        office.wait()


if __name__ == "__main__":
    sys.exit(main())
