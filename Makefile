# smplr developer entry points. Every target sets up .venv by itself on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.smplr-installed
DEMO_OUT ?= out/demo

.PHONY: venv test test-all demo bench report lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

test: venv
	$(PY) -m pytest -q -n 2 -m "not slow"

test-all: venv
	$(PY) -m pytest -q -n 2

lint: venv
	$(PY) -m ruff check src tests
	$(PY) -m ruff format --check src tests
	$(PY) -m mypy

demo: venv
	$(PY) -m smplr demo --out $(DEMO_OUT)

bench: venv
	$(PY) -m smplr bench all

# docs/reproduction.md: the paper's tables beside smplr's measured numbers (a few minutes).
report: venv
	$(PY) -m smplr report --out docs/reproduction.md

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
