# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck contract venv clean examples

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## demo: install, process the example Maildir once, print the status table, write the exports to examples/output/
demo: $(STAMP)
	$(BIN)/intake --config config.example.toml run --once
	$(BIN)/intake --config config.example.toml status
	for f in csv xlsx html docx; do \
		$(BIN)/intake -q --config config.example.toml export --format $$f -o examples/output/chuyen-de-2024.$$f; done

## test: install system and Python dependencies, lint, type-check, run every test
test: $(STAMP)
	./scripts/setup-system.sh
	$(BIN)/ruff check processor parsers store tests bench scripts
	./scripts/typecheck.sh
	$(BIN)/pytest -q
	$(MAKE) contract

## contract: SPEC's contract check on a scratch copy of the examples, against a non-editable install
contract: $(STAMP)
	./scripts/contract-check.sh

examples: $(STAMP)
	$(BIN)/python scripts/make_examples.py

clean:
	rm -rf $(VENV) build *.egg-info
