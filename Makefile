# The two commands a newcomer needs: `make demo` and `make test` (`make test-fast`: the tier without servers).
# `make demo` / `make install` install only what running needs; `make test` adds the test tools.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo install test test-fast lint typecheck contract venv clean examples golden catalogs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $(TEST_STAMP)

## install: the runtime only, into .venv (what deploy/intake.service runs)
install: $(STAMP)

venv: $(TEST_STAMP)

## demo: install, process the example Maildir once, print the status table, write the exports to examples/output/
demo: $(STAMP)
	$(BIN)/intake --config config.example.toml run --once
	$(BIN)/intake --config config.example.toml status
	mkdir -p examples/output  # untracked (.gitignore): the demo leaves no tracked file changed
	for f in csv xlsx html docx; do \
		$(BIN)/intake -q --config config.example.toml export --format $$f -o examples/output/chuyen-de-2024.$$f; done

## test: install system and Python dependencies (test tools too), lint, type-check, run every test
test: $(TEST_STAMP)
	./scripts/setup-system.sh
	$(BIN)/ruff check processor parsers store tests bench scripts
	./scripts/typecheck.sh
	$(BIN)/pytest -q

## test-fast: the pure and golden tiers only (no Dovecot, PostgreSQL, SMTP server, LibreOffice, browser or
## intake process; tests/conftest.py says which is which): under a minute on an idle machine
## Its scratch files (SQLite stores, Maildirs) go to /dev/shm when that has 2 GB free and TMPDIR is unset: the
## same tests without waiting on fsync, which on a busy disk was most of the wall time of the store's tests.
FAST_TMPDIR := $(shell [ -z "$$TMPDIR" ] && df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 && $$4 > 2097152 {print "/dev/shm"}')
test-fast: $(TEST_STAMP)
	$(if $(FAST_TMPDIR),TMPDIR=$(FAST_TMPDIR) )$(BIN)/pytest -q -m "not server and not slow"

## contract: SPEC's contract check (needs ../shared, the team's CI only; .ci/run runs it when present)
contract: $(STAMP)
	./scripts/contract-check.sh

## golden: accept the whole pipeline's golden records (tests/golden/pipeline/) after a change meant to alter them
golden: $(TEST_STAMP)
	$(BIN)/python scripts/update_golden.py

## catalogs: after adding or changing a _("...") message: extract every message (ours and argparse's) with
## xgettext, merge them into the Vietnamese catalog (then translate the new, empty ones), compile intake.mo
LOCALE := processor/locale
catalogs: $(STAMP)
	xgettext -L Python -k_ -kN_ --from-code=UTF-8 --no-location --sort-output -o $(LOCALE)/intake.pot \
		$$(find processor -name '*.py' | sort) $$($(BIN)/python -c 'import argparse; print(argparse.__file__)')
	msgmerge -q --update --backup=none --no-fuzzy-matching --no-location --sort-output \
		$(LOCALE)/vi/LC_MESSAGES/intake.po $(LOCALE)/intake.pot
	rm $(LOCALE)/intake.pot
	msgattrib --no-obsolete --sort-output -o $(LOCALE)/vi/LC_MESSAGES/intake.po $(LOCALE)/vi/LC_MESSAGES/intake.po
	msgfmt --check --statistics -o $(LOCALE)/vi/LC_MESSAGES/intake.mo $(LOCALE)/vi/LC_MESSAGES/intake.po

examples: $(TEST_STAMP)
	$(BIN)/python scripts/make_examples.py

clean:
	rm -rf $(VENV) build *.egg-info
