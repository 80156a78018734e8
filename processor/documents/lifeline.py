"""Run a command that dies with the process that started it, children and grandchildren included.

    python -I lifeline.py FD -- COMMAND [ARG...]

LibreOffice is a shell script that execs `oosplash`, which forks
`soffice.bin`: a kill of the process intake started (or PR_SET_PDEATHSIG on
it) leaves `soffice.bin` running, ~85 MB each, after a daemon is killed. So
the process that starts LibreOffice (the pool's UNO bridge, or a one-shot
conversion) starts it through this launcher in a new session: it is the
leader of a process group that LibreOffice never leaves, and it holds the
read end FD of a pipe whose write end only the starting process has. When
that process ends, however it ends (SIGKILL included), the kernel closes the
write end, the read gets end-of-file and the launcher kills its whole group.
A pipe rather than PR_SET_PDEATHSIG, which fires when the *thread* that
forked exits, not the process: intake starts LibreOffice from worker threads.

The command's exit status is the launcher's. Standard library only; intake
imports it for `start`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any


def end_group_when_closed(fd: int) -> None:
    """Block until the pipe `fd` has no writer left, then kill this process group (this process too)."""
    try:
        while os.read(fd, 4096):
            pass
    finally:
        os.killpg(os.getpgrp(), signal.SIGKILL)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--" or not argv[1].isdigit():
        sys.stderr.write("usage: lifeline.py FD -- COMMAND [ARG...]\n")
        return 2
    fd = int(argv[1])
    threading.Thread(target=end_group_when_closed, args=(fd,), daemon=True).start()
    try:
        child = subprocess.Popen(argv[3:], close_fds=True)
    except OSError as exc:
        sys.stderr.write(f"lifeline: cannot start {argv[3]}: {exc}\n")
        return 127
    # A SIGTERM to the launcher (the starting process stopping it) ends the group as a kill would.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: os.killpg(os.getpgrp(), signal.SIGKILL))
    code = child.wait()
    if code < 0:  # killed by a signal: end the same way, so the starting process sees what happened
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def start(command: list[str], **popen: Any) -> tuple[subprocess.Popen[bytes], int]:
    """Start `command` through this launcher, in a new session (its process group is the launcher's pid).
    Returns the process and the lifeline's write end: closing it (or this process ending) ends them all."""
    read, write = os.pipe()  # not inherited by any other child (O_CLOEXEC); `read` passed to this one only
    try:
        proc: subprocess.Popen[bytes] = subprocess.Popen(
            [sys.executable, "-I", __file__, str(read), "--", *command], pass_fds=(read,),
            start_new_session=True, **popen)
    except BaseException:
        os.close(write)
        raise
    finally:
        os.close(read)
    return proc, write


if __name__ == "__main__":
    sys.exit(main(sys.argv))
