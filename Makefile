# Two entry points for a fresh machine: `make book` and `make test`.
# Everything else is what they call.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: setup system-deps book test test-fast pdf bench audit lock clean

$(BIN)/lancs-evidence: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt --editable ".[test]"
	@touch $@

setup: $(BIN)/lancs-evidence

# Debian's Chromium (browser tests, PDF) and poppler-utils (pdftoppm), only when missing.
system-deps:
	@bash scripts/install-system-deps.sh

book: setup
	$(BIN)/lancs-evidence build

test: setup system-deps
	$(BIN)/python -m pytest

# The edit loop: every test that builds no book and runs no notebook (well under 2 minutes).
test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -q

pdf: setup system-deps
	$(BIN)/lancs-evidence pdf

bench: setup
	$(BIN)/lancs-evidence bench

audit: setup
	$(BIN)/lancs-evidence audit

lock: setup
	@{ echo "# Exact versions of every Python package the build and the tests were run with."; \
	   echo "# Used as pip constraints by 'make setup'; refresh with 'make lock' after a deliberate upgrade."; \
	   $(BIN)/pip freeze --exclude-editable | grep -v -iE '^(pip|setuptools)=='; } > constraints.txt

clean:
	rm -rf _build chapters/districts/*.ipynb
