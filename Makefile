# The two commands of a fresh machine: `make run` and `make test`. Both make their own virtualenv.
# `make test` runs `make lint` first: the house rules, checked by tools (configured in pyproject.toml).
# `make test-fast` runs the unit tier alone, in seconds: no database, no browser.
PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: run run-native test test-fast lint install browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/accueil run

# `make run` plus a local APNs and FCM (the test suite's stand-ins) that notify pushes native apps to:
# what `accueil demo --native ios|android` plays against.
run-native: $(STAMP)
	$(BIN)/accueil run --push-standins

# Four pytest-xdist workers keep two cores busy while tests wait (on PostgreSQL, on processes, on timers).
# Each worker has its own embedded PostgreSQL; the tests that keep to one worker are listed in
# tests/conftest.py (WORKER_GROUPS). `make test TEST_WORKERS=0` runs them all in one process.
TEST_WORKERS ?= 4

test: lint $(STAMP) browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

# Style and formatting, types (strict on the rule modules), the import contracts between services and
# features, and a docs site with no broken link or missing page.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict  # the theme's banner about MkDocs 2 is not a finding

# tests/browser drives Debian's Chromium (never `playwright install`). Installed as .ci/run does when
# this user may (root, or sudo without a password); otherwise stop and say the one step to take.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null && command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then \
	    sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "make test needs Chromium at $(CHROMIUM) for tests/browser. Install it once:" >&2; \
	    echo "    sudo apt-get install chromium" >&2; \
	    echo "then run make test again (make test-fast needs no browser)." >&2; \
	    exit 1; \
	  fi; \
	  test -x $(CHROMIUM) || { echo "chromium was installed but $(CHROMIUM) is still missing" >&2; exit 1; }; \
	fi

clean:
	rm -rf $(VENV) .accueil
