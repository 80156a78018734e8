"""Child process of `MailParser.parse_isolated`.

    python -I -m intake.processor.ingest.mail_worker --memory-mb N --cpu-seconds N

Sets its limits, reads the raw message on stdin, writes `encode_reply(parse_email(raw))` on stdout,
exit status 0. Out of memory: exit status 3; out of CPU time: killed by SIGXCPU.
"""
from __future__ import annotations

import argparse
import resource
import sys

_MB = 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mail_worker")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    args = parser.parse_args(argv)
    # Import before the limit, so that it measures the message rather than the interpreter.
    from intake.parsers.email import parse_email
    from intake.processor.ingest.mailparse import encode_reply

    memory = args.memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (args.cpu_seconds, args.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        reply = encode_reply(parse_email(sys.stdin.buffer.read()))
    except MemoryError:
        return 3
    sys.stdout.buffer.write(reply)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
