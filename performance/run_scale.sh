#!/usr/bin/env bash
# Every figure of performance/README.md's scale section, in one run (issue 9):
#
#     bash performance/run_scale.sh          (or: make bench)
#
# Makes empty benchmark databases (dropping those of a run before), generates national scale and
# LA scale into PostgreSQL and LA scale into SQLite, and on each runs bench_scale.py (coverage,
# scoring, the attendance import, against their floors; at national scale also the attendance
# import's memory at 10,000 to 1,000,000 marks) and bench_pages.py (the key pages under
# gunicorn), then bench_imports.py (the pupils and placements imports, 20,000 rows each) on a
# database of its own on each. Each writes its JSON to performance/results/. Takes 8-11 minutes on
# 2 cores and several GB of disk while it runs; the databases are dropped at the end unless KEEP=1.
#
# PostgreSQL from PGHOST/PGPORT/PGUSER (default 127.0.0.1:5432, postgres, trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
PG="postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT"
LA_DB=ap_register_bench_la
NATIONAL_DB=ap_register_bench_national
IMPORTS_DB=ap_register_bench_imports
SQLITE_DIR=$(mktemp -d -t ap-register-la-sqlite-XXXX)

cleanup() {
    rm -rf "$SQLITE_DIR"
    if [ "${KEEP:-0}" != 1 ]; then
        dropdb --force --if-exists "$LA_DB"
        dropdb --force --if-exists "$NATIONAL_DB"
    fi
    dropdb --force --if-exists "$IMPORTS_DB"
}
trap cleanup EXIT

for name in "$LA_DB" "$NATIONAL_DB" "$IMPORTS_DB"; do
    dropdb --force --if-exists "$name"
    createdb "$name"
done

echo "== national scale, PostgreSQL"
"$PYTHON" performance/bench_scale.py --scale national --import-rows 200000 --database-url "$PG/$NATIONAL_DB"
"$PYTHON" performance/bench_pages.py --database-url "$PG/$NATIONAL_DB" --label=-national
"$PYTHON" performance/bench_scale.py --scale national --steps import-memory --database-url "$PG/$NATIONAL_DB"
echo "== LA scale, PostgreSQL"
"$PYTHON" performance/bench_scale.py --scale la --database-url "$PG/$LA_DB"
"$PYTHON" performance/bench_pages.py --database-url "$PG/$LA_DB" --label=-la
echo "== LA scale, SQLite"
"$PYTHON" performance/bench_scale.py --scale la --database-url "sqlite:///$SQLITE_DIR/bench.db"
"$PYTHON" performance/bench_pages.py --database-url "sqlite:///$SQLITE_DIR/bench.db" --label=-la
echo "== the pupils and placements imports, SQLite and PostgreSQL"
"$PYTHON" performance/bench_imports.py --rows 20000 --placements 20000
"$PYTHON" performance/bench_imports.py --rows 20000 --placements 20000 --database-url "$PG/$IMPORTS_DB"
