"""Child process of `DocumentReader.read_isolated`.

    python -I -m intake.processor.documents.worker --memory-mb N --cpu-seconds N

Sets its own resource limits before reading anything, reads a pickled
`(Attachment, ReaderLimits)` on stdin (from the parent, trusted), runs
`DocumentReader.read`, and writes one JSON object on stdout (the parent does not
unpickle anything that came near the untrusted document):

    {"outline": {...}}                              success
    {"error": "UnreadableDocument", "message": ...}  a DocumentError

Exit status 0 in both cases. Running out of memory reports
`UnreadableDocument("exceeded memory/time limit")`; running out of CPU time
kills the process (SIGXCPU), which the parent reports the same way.

With `--serve` it is a long-lived worker of `DocumentPool` instead (see
`intake.processor.documents.serve`).
"""
from __future__ import annotations

import argparse
import json
import pickle
import resource
import signal
import sys
from types import FrameType

_MB = 1024 * 1024


def _apply_limits(memory_mb: int, cpu_seconds: int) -> None:
    memory = memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds through the conversion's `finally`, which kills LibreOffice.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="documents_worker")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--serve", action="store_true", help="answer framed jobs until EOF (DocumentPool)")
    parser.add_argument("--office-via-parent", action="store_true",
                        help="with --serve: convert with the pool's LibreOffice, asked through the parent")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    if args.serve:
        from intake.processor.documents.serve import serve
        from intake.processor.ops.memory import steady_heap

        steady_heap()

        return serve(args.memory_mb, args.cpu_seconds, args.office_via_parent)
    # Import what parsing needs before the memory limit, so that the limit
    # measures the document rather than the interpreter's start-up.
    from intake.parsers.errors import DocumentError, UnreadableDocument
    from intake.processor.documents import LIMIT_EXCEEDED, DocumentReader, outline_to_json

    _apply_limits(args.memory_mb, args.cpu_seconds)
    request = sys.stdin.buffer.read()
    attachment, limits = pickle.loads(request)  # from the parent process, trusted
    reply: dict[str, object]
    try:
        outline = DocumentReader(limits).read(attachment)
        reply = {"outline": outline_to_json(outline)}
    except MemoryError:
        del request, attachment
        reply = {"error": UnreadableDocument.__name__, "message": LIMIT_EXCEEDED}
    except DocumentError as exc:
        reply = {"error": type(exc).__name__, "message": str(exc)}
    sys.stdout.buffer.write(json.dumps(reply).encode("ascii"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
