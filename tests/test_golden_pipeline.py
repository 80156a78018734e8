"""The whole pipeline against its golden records (tests/golden/pipeline/<corpus>.json): every corpus run end to
end on a Maildir with outbox sending and a fixed clock, no server needed. A difference fails with a diff and
says how to accept it; every message ends attributed, unmatched, or ignored with a reason."""
from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path

import pytest
from golden.pipeline import (
    CORPORA,
    UPDATE_HINT,
    diff,
    documents,
    golden_path,
    invariant_failures,
    render,
    run_corpus,
    summary,
    without_libreoffice,
)

# Corpus `documents` has a legacy .doc, read through LibreOffice: whole, it is the slow tier's; the fast tier
# checks the rest of it against the same committed record (below).
SLOW_CORPORA = {"documents"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in SLOW_CORPORA else name
                                  for name in CORPORA])
def test_pipeline_matches_its_golden_record(name: str, tmp_path: Path) -> None:
    record = run_corpus(name, tmp_path)
    print(summary(record))  # shown with -s / -rP: the corpus's units by outcome
    assert not invariant_failures(record), invariant_failures(record)
    changes = diff(name, render(record))
    if changes:
        pytest.fail(f"the pipeline's behaviour on corpus {name!r} changed:\n{changes}\n"
                    + UPDATE_HINT.format(name=name), pytrace=False)


def test_the_documents_word_reads_itself_match_their_golden_record(tmp_path: Path) -> None:
    record = run_corpus("documents", tmp_path, functools.partial(documents, libreoffice=False))
    assert not invariant_failures(record), invariant_failures(record)
    committed = without_libreoffice(json.loads(golden_path("documents").read_text(encoding="utf-8")))
    assert len(committed["messages"]) == len(record["messages"]) >= 40
    if render(record) != render(committed):
        pytest.fail("the pipeline's behaviour on corpus 'documents' changed:\n"
                    + "".join(difflib.unified_diff(render(committed).splitlines(keepends=True),
                                                   render(record).splitlines(keepends=True),
                                                   fromfile="committed (its .docx part)", tofile="fresh run"))
                    + UPDATE_HINT.format(name="documents"), pytrace=False)


def test_the_invariant_check_sees_a_message_without_an_outcome() -> None:
    record = {"messages": [{"message_id": "<a@x.vn>", "state": "failed", "outcome": "none", "error": "boom"},
                           {"message_id": "<b@x.vn>", "state": "processed", "outcome": "attributed"}]}
    assert invariant_failures(record) == ["<a@x.vn>: failed boom"]
