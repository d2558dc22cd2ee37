# ap_register: the two commands of the README, and the steps they share.
#   make run    set up, then start the app on SQLite with the demo area
#   make test   set up, then run every test on SQLite and on PostgreSQL at once (browser tests
#               included); what CI runs (.ci/run)
#   make test-full  the same with every test on both databases, the input suites whole, and the
#               suite at later dates of the machine's clock (over an hour: by hand, before a release)
#   make bench  set up, then every scale benchmark in one run (performance/README.md; ~10 minutes)

PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
ASSETS := $(shell find assets -type f)
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export TEST_POSTGRES_URL

.PHONY: setup run test test-full test-sqlite test-postgres test-postgres-later test-browser-loaded lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Python packages, pinned by requirements.lock (every package, not only the direct ones).
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[test]"
	touch $@

# GOV.UK Frontend and Dart Sass from npm, exactly as package-lock.json pins them.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

ap_register/static/css/main.css: node_modules/.package-lock.json $(ASSETS)
	npm run build

setup: $(VENV)/.installed ap_register/static/css/main.css

run: setup
	$(BIN)/ap-register init-db
	$(BIN)/ap-register demo
	@echo "ap_register is starting at http://127.0.0.1:$(PORT)/ (Ctrl+C stops it)"
	$(BIN)/flask --app ap_register run --host 127.0.0.1 --port $(PORT)

# The suite's two halves run at once, one pytest per core, each on its own database: every test on
# SQLite as the machine's clock says today, and every test on PostgreSQL as if it said six months on
# (nothing may read the machine's clock around the register's own, ap_register/clock.py). Each half's
# output is shown when it ends; make's exit status is the worse of the two.
#   make test        the input suites at part size: the generated bad input at 100 cases a target,
#                    the hostile values one of each kind, the demo loaded on 4 days of the year;
#                    and the long tests that use a database but test no difference between the two
#                    (the browser journeys, the route walks' cases, the demo's days) shared between
#                    the halves, each on one database (AP_REGISTER_SHARE, tests/conftest.py)
#   make test-full   (by hand, before a release) every case of them on both databases, then the suite at +12 and +36
#                    months too (on SQLite, without the browser and the two input fuzzers, which
#                    read no date)
BAD_INPUT_EXAMPLES ?= 100
HOSTILE_VALUES ?= some
DEMO_DAYS_EVERY ?= 17
AP_REGISTER_SHARE ?= 0
export BAD_INPUT_EXAMPLES HOSTILE_VALUES DEMO_DAYS_EVERY AP_REGISTER_SHARE
# make test walks the hostile values in the SQLite half only (the PostgreSQL half is the longer);
# make test-full walks them in both.
POSTGRES_LEAVES ?= --ignore=tests/security/test_hostile_input.py
FULL := BAD_INPUT_EXAMPLES=400 HOSTILE_VALUES=all DEMO_DAYS_EVERY=9 POSTGRES_LEAVES=
DATE_RUN := --db sqlite -m "not browser" --ignore=tests/security/test_hostile_input.py --ignore=tests/security/test_bad_input.py
HALVES := $(MAKE) --no-print-directory -j2 --output-sync=target

test: setup lint
	$(HALVES) test-sqlite test-postgres-later AP_REGISTER_SHARE=1

test-full: setup lint
	$(HALVES) test-sqlite test-postgres-later $(FULL)
	$(HALVES) test-date-12 test-date-36

test-postgres-later: setup
	$(BIN)/python -m pytest --db postgres --machine-date +6 $(POSTGRES_LEAVES)

test-date-%: setup
	$(BIN)/python -m pytest $(DATE_RUN) --machine-date +$*

# The browser tests three times over with both cores kept busy by spinning processes: a test that
# reads a page before it is there fails here first.
test-browser-loaded: setup
	for run in 1 2 3; do $(BIN)/python -m pytest --db sqlite -m browser --cpu-hog 2 || exit 1; done

lint: setup
	$(BIN)/ruff check ap_register tests examples performance gunicorn.conf.py
	$(BIN)/ruff format --check ap_register tests examples performance gunicorn.conf.py
	$(BIN)/mypy

test-sqlite: setup
	$(BIN)/python -m pytest --db sqlite

test-postgres: setup
	$(BIN)/python -m pytest --db postgres

bench: setup
	bash performance/run_scale.sh

clean:
	rm -rf $(VENV) node_modules ap_register/static instance .pytest_cache
