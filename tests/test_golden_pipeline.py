"""The whole pipeline against its golden records (tests/golden/pipeline/<corpus>.json): every corpus run end to
end on a Maildir with outbox sending and a fixed clock, no server needed. A difference fails with a diff and
says how to accept it; every message ends attributed, unmatched, or ignored with a reason."""
from __future__ import annotations

from pathlib import Path

import pytest
from golden.pipeline import CORPORA, UPDATE_HINT, diff, invariant_failures, render, run_corpus, summary


@pytest.mark.parametrize("name", list(CORPORA))
def test_pipeline_matches_its_golden_record(name: str, tmp_path: Path) -> None:
    record = run_corpus(name, tmp_path)
    print(summary(record))  # shown with -s / -rP: the corpus's units by outcome
    assert not invariant_failures(record), invariant_failures(record)
    changes = diff(name, render(record))
    if changes:
        pytest.fail(f"the pipeline's behaviour on corpus {name!r} changed:\n{changes}\n"
                    + UPDATE_HINT.format(name=name), pytrace=False)


def test_the_invariant_check_sees_a_message_without_an_outcome() -> None:
    record = {"messages": [{"message_id": "<a@x.vn>", "state": "failed", "outcome": "none", "error": "boom"},
                           {"message_id": "<b@x.vn>", "state": "processed", "outcome": "attributed"}]}
    assert invariant_failures(record) == ["<a@x.vn>: failed boom"]
