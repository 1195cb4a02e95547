# 银龄服务台 · Silver Counter
#   make run    set up (system packages, .venv) and start the kiosk on its embedded defaults
#   make test   set up with the dev tools, then ruff, mypy and the whole pytest suite (offscreen)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint typecheck pytest screenshots bench dist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	scripts/sysdeps.sh run
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	scripts/sysdeps.sh test
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.stamp-run

run: $(VENV)/.stamp-run
	$(BIN)/kiosk $(ARGS)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/check_readme.py

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy

pytest: $(VENV)/.stamp-dev
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

screenshots: $(VENV)/.stamp-run
	$(BIN)/kiosk --screenshot docs/screenshots --data-dir $$(mktemp -d)

bench: $(VENV)/.stamp-dev
	$(BIN)/python bench/startup.py

# One-folder PyInstaller bundle in dist/kiosk/ (binary dist/kiosk/kiosk); KIOSK_SPEC_DEBUG=1
# for a debug build (import tracing, no archive). The target needs the run packages of
# scripts/sysdeps.sh (libgl1, libegl1, espeak-ng, libportaudio2 ...); see docs/deploy.md.
dist: $(VENV)/.stamp-dev
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN kiosk.spec
	@du -sh dist/kiosk

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
