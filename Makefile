# ap_register: the two commands of the README, and the steps they share.
#   make run    set up, then start the app on SQLite with the demo area
#   make test   set up, then run every test on SQLite and again on PostgreSQL (browser tests included),
#               and the suite at later dates of the machine's clock
#   make bench  set up, then every scale benchmark in one run (performance/README.md; ~10 minutes)

PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
ASSETS := $(shell find assets -type f)
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export TEST_POSTGRES_URL

.PHONY: setup run test test-sqlite test-postgres lint bench clean

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

# Every test on SQLite today, and on PostgreSQL as if the machine's clock said six months from now;
# then, to prove that nothing reads the clock around the register's own (ap_register/clock.py), the
# suite again at +12 and +36 months (on SQLite, without the browser and the two input fuzzers, which
# read no date of their own and take a third of the time).
DATE_RUN := --db sqlite -m "not browser" --ignore=tests/security/test_hostile_input.py --ignore=tests/security/test_bad_input.py

test: setup lint
	$(BIN)/python -m pytest --db sqlite
	$(BIN)/python -m pytest --db postgres --machine-date +6
	$(BIN)/python -m pytest $(DATE_RUN) --machine-date +12
	$(BIN)/python -m pytest $(DATE_RUN) --machine-date +36

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
