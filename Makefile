# webhookload — every target installs what it needs first (make install is idempotent).
PY      ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARGS    ?=

.PHONY: install demo test lint fmt loadtest loadtest-http loadtest-kafka target record screenshot bench clean

install: $(STAMP)

# Debian packages the tests use (tmux drives the real-terminal test).
$(STAMP): pyproject.toml
	@command -v tmux >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq tmux; }
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,distributed]'
	@touch $(STAMP)

## The main job: the TUI against the embedded reference target, started at once.
## Quitting it early (q, Ctrl+C) exits 130, the CLI's documented code for a run the
## user stopped; for the demo that is how it ends, not a failure of make.
demo: install
	$(BIN)/webhookload-tui --target builtin --autostart $(ARGS) || { code=$$?; [ $$code -eq 130 ] || exit $$code; }

## ruff, mypy and pytest; fails on any of them.
test: install lint
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## The plan's targets.
loadtest: install
	$(BIN)/webhookload-tui --no-ui -target http://localhost:3001 -vus 10 -duration 30s $(ARGS)

loadtest-http: install
	$(BIN)/webhookload-tui --no-ui --target builtin --target-mode sync --vus 10 --duration 30s $(ARGS)

loadtest-kafka: install
	$(BIN)/webhookload-tui --no-ui --target builtin --target-mode queue --vus 10 --duration 30s --verify 200 $(ARGS)

## The reference ingest service on :3001 (for `make loadtest` in another terminal).
target: install
	$(BIN)/webhookload-target $(ARGS)

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache

## Demos: an SVG of the real app mid-run (shown in the README) and an asciinema recording
## that ends on the summary the app prints once it has closed (tests/test_terminal_more.py).
screenshot: install
	$(BIN)/python -m tui.screenshot docs/screenshot.svg

record: install
	@command -v asciinema >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq asciinema; }
	@mkdir -p docs
	asciinema rec --overwrite --quiet --cols 120 --rows 36 \
		-c "$(BIN)/webhookload-tui --target builtin --autostart --duration 10s --exit-on-finish" docs/demo.cast
	@echo "wrote docs/demo.cast (play it with: asciinema play docs/demo.cast)"

## Benchmarks: webhookload vs Locust, the plan's Go tester, hey and wrk, against nginx.
bench: install
	SHARED=$(abspath ../shared) bash bench/setup.sh
	$(BIN)/python bench/run.py $(ARGS)
