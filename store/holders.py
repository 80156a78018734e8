"""Who holds a lease or a claim: host, pid and a random suffix, so that a dead holder on this host is known.

Used by the leases (`store/leases.py`) and by the claims on outgoing mail
(`Store.claim_outgoing`): a holder that died on this host is taken over at
once instead of waiting out its time.
"""
from __future__ import annotations

import os
import socket
import uuid


def new_holder() -> str:
    """A name unique to this process and object: host, pid, random suffix."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """True when `holder` names a process of this host that no longer runs.

    A daemon restarted after a crash (or a store restored from a backup taken
    while the daemon ran) then takes its own stale lease at once instead of
    waiting for it to expire. A holder on another host, or a reused pid, is
    taken as alive: the lease then simply runs out.
    """
    host_pid, _, _suffix = holder.rpartition(":")
    host, _, pid_text = host_pid.rpartition(":")
    if host != socket.gethostname()[:100] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False
