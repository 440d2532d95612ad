#!/usr/bin/env bash
# Cible's whole check, as `make test` and CI run it:
#   setup     install what is missing (Debian's chromium and dovecot-imapd, PostgreSQL server binaries)
#   lint      make lint (ruff, import layers, mypy)
#   sqlite    the suite on SQLite
#   postgres  the same suite on a PostgreSQL server started here (unix socket, temp dir)
#   browser   the browser suite in headless Chromium (Playwright), on SQLite
#
# Extra arguments go to every pytest run:   scripts/test.sh -k organisation -x
# Choose stages:                            CIBLE_TEST_STAGES="sqlite postgres" scripts/test.sh
# SQLite and PostgreSQL run at once unless:  CIBLE_TEST_PARALLEL=0
# It stops at the first failing stage; the PostgreSQL server and temp dirs are always removed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STAGES="${CIBLE_TEST_STAGES:-lint sqlite postgres browser}"
PYTEST_ARGS=("$@")
PY="$ROOT/.venv/bin/python"
PG_USER="cible-pg"
PG_PORT="${CIBLE_TEST_PG_PORT:-54329}"
export CIBLE_TEST_CHROMIUM="${CIBLE_TEST_CHROMIUM:-/usr/bin/chromium}"
export DEBIAN_FRONTEND=noninteractive

for stage in $STAGES; do
    case "$stage" in
        lint | sqlite | postgres | browser) ;;
        *) echo "test.sh: unknown stage '$stage' in CIBLE_TEST_STAGES (lint sqlite postgres browser)" >&2; exit 2 ;;
    esac
done

wants() { [[ " $STAGES " == *" $1 "* ]]; }

SECONDS=0
header() { printf '\n======== %s  (%ss elapsed) ========\n' "$1" "$SECONDS"; }
die() { printf '\ntest.sh: %s\n' "$*" >&2; exit 1; }

# ---- cleanup, always --------------------------------------------------------------------------
TMP_DIRS=()
PG_DIR=""
PG_STARTED=0

as_pg() {
    if [[ $EUID -eq 0 ]]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

cleanup() {
    local rc=$?
    if [[ $PG_STARTED -eq 1 ]]; then
        as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 \
            || as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    [[ -n "$PG_DIR" ]] && rm -rf "$PG_DIR"
    for d in "${TMP_DIRS[@]}"; do rm -rf "$d"; done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_pytest STAGE ARGS... : runs pytest, stops the script on any non-zero exit (5 = no tests too)
run_pytest() {
    local stage="$1" rc=0
    shift
    "$PY" -m pytest "$@" ${PYTEST_ARGS[@]+"${PYTEST_ARGS[@]}"} || rc=$?
    if [[ $rc -ne 0 ]]; then
        [[ $rc -eq 5 ]] && echo "test.sh: pytest collected no test in stage '$stage'" >&2
        die "stage '$stage' failed (pytest exit code $rc)"
    fi
}

# Fresh SQLite database and var dir for one stage (exported for the pytest runs that follow).
sqlite_env() {
    local d
    d="$(mktemp -d /tmp/cible-test.XXXXXX)"
    TMP_DIRS+=("$d")
    mkdir -p "$d/var"
    export CIBLE_VAR_DIR="$d/var"
    export CIBLE_DATABASE_URL="sqlite:///$d/cible.sqlite3"
}

# ---- (a) setup ------------------------------------------------------------------------------
header "setup: tools"
[[ -x "$PY" ]] || make -s venv

APT_UPDATED=0
can_apt() { [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; }
apt_install() {
    if [[ $APT_UPDATED -eq 0 ]]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    apt-get install -y -qq "$@"
}

if wants browser; then
    if [[ ! -x "$CIBLE_TEST_CHROMIUM" ]]; then
        if can_apt; then
            echo "Chromium missing at $CIBLE_TEST_CHROMIUM: installing Debian package chromium"
            apt_install chromium || die "could not install the Debian package 'chromium'"
        fi
        [[ -x "$CIBLE_TEST_CHROMIUM" ]] || die "Chromium is missing: no executable at" \
            "$CIBLE_TEST_CHROMIUM. Install the Debian package 'chromium' as root" \
            "(apt-get install -y chromium) or set CIBLE_TEST_CHROMIUM."
    fi
    echo "chromium: $("$CIBLE_TEST_CHROMIUM" --version 2>/dev/null || echo "$CIBLE_TEST_CHROMIUM")"
fi

# The bounce tests read a real IMAP server: Debian's Dovecot, started by the tests themselves.
if wants sqlite || wants postgres; then
    if ! command -v dovecot >/dev/null && [[ ! -x /usr/sbin/dovecot ]]; then
        if can_apt; then
            echo "Dovecot missing: installing Debian package dovecot-imapd"
            apt_install dovecot-imapd || die "could not install the Debian package 'dovecot-imapd'"
        else
            echo "Dovecot missing: the IMAP bounce tests will be skipped (apt-get install -y dovecot-imapd)"
        fi
    fi
fi

find_pgbin() {
    local initdb_path
    if initdb_path="$(command -v initdb)"; then
        dirname "$(readlink -f "$initdb_path")"
        return 0
    fi
    local d
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
    done
    return 1
}

PGBIN=""
if wants postgres; then
    if ! PGBIN="$(find_pgbin)"; then
        if can_apt; then
            echo "PostgreSQL server binaries missing: installing Debian package postgresql"
            # Only the binaries are wanted: don't let the package create and start a cluster.
            apt_install postgresql-common || die "could not install the Debian package 'postgresql-common'"
            sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' \
                /etc/postgresql-common/createcluster.conf 2>/dev/null || true
            apt_install postgresql || die "could not install the Debian package 'postgresql'"
        fi
        PGBIN="$(find_pgbin)" || die "PostgreSQL server binaries are missing: no initdb/pg_ctl on" \
            "PATH nor in /usr/lib/postgresql/*/bin. Install the Debian package 'postgresql' as root" \
            "(apt-get install -y postgresql)."
    fi
    echo "postgresql: $("$PGBIN/postgres" --version) ($PGBIN)"
    if [[ $EUID -eq 0 ]] && ! id -u "$PG_USER" >/dev/null 2>&1; then
        echo "creating system user $PG_USER (PostgreSQL refuses to run as root)"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
    fi
fi

# ---- (b) lint -------------------------------------------------------------------------------
if wants lint; then
    header "lint: make lint"
    make lint || die "stage 'lint' failed"
fi

# ---- (c) SQLite and (d) PostgreSQL ------------------------------------------------------------
# tests/browser is ignored outside the browser stage: its conftest allows async-unsafe Django
# calls (Playwright runs an event loop), which must not leak into the other tests.
# Both suites run at once (one core each) unless CIBLE_TEST_PARALLEL=0: the PostgreSQL run's
# output is kept in a file and shown when it ends.
SUITE_ARGS=(-m "not browser" -p no:cacheprovider --ignore=tests/browser)

pg_start() {
    PG_DIR="$(mktemp -d /tmp/cible-pg.XXXXXX)"
    chmod 755 "$PG_DIR"
    [[ $EUID -eq 0 ]] && chown "$PG_USER:" "$PG_DIR"
    as_pg "$PGBIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    PG_STARTED=1
    if ! as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -o \
        "-p $PG_PORT -k $PG_DIR -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null; then
        cat "$PG_DIR/server.log" >&2 || true
        die "the PostgreSQL server did not start (port $PG_PORT, socket dir $PG_DIR)"
    fi
    "$PY" - "$PG_DIR" "$PG_PORT" <<'PYEOF' || die "could not create database 'cible'"
import sys
import psycopg

with psycopg.connect(host=sys.argv[1], port=int(sys.argv[2]), user="postgres",
                     dbname="postgres", autocommit=True) as conn:
    conn.execute("CREATE DATABASE cible")
PYEOF
    # Socket directory percent-encoded in the host part: dj-database-url then fills HOST and
    # PORT (the ?host= form only lands in OPTIONS, leaving HOST empty).
    PG_URL="postgres://postgres@${PG_DIR//\//%2F}:${PG_PORT}/cible"
}

pg_stop() {
    as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
    PG_STARTED=0
    rm -rf "$PG_DIR"
    PG_DIR=""
}

if wants sqlite && wants postgres && [[ "${CIBLE_TEST_PARALLEL:-1}" != 0 ]]; then
    header "sqlite and postgres at once: pytest -m 'not browser' (PostgreSQL's output follows)"
    pg_start
    sqlite_env # the PostgreSQL run's var dir
    PG_LOG="$CIBLE_VAR_DIR/../pytest-postgres.log"
    CIBLE_DATABASE_URL="$PG_URL" "$PY" -m pytest "${SUITE_ARGS[@]}" \
        ${PYTEST_ARGS[@]+"${PYTEST_ARGS[@]}"} >"$PG_LOG" 2>&1 &
    PG_PID=$!
    sqlite_env
    echo "CIBLE_DATABASE_URL=$CIBLE_DATABASE_URL (and $PG_URL)"
    SQLITE_RC=0
    "$PY" -m pytest "${SUITE_ARGS[@]}" ${PYTEST_ARGS[@]+"${PYTEST_ARGS[@]}"} || SQLITE_RC=$?
    PG_RC=0
    wait "$PG_PID" || PG_RC=$?
    header "postgres: the same suite on $PG_URL"
    cat "$PG_LOG"
    pg_stop
    [[ $SQLITE_RC -eq 0 ]] || die "stage 'sqlite' failed (pytest exit code $SQLITE_RC)"
    [[ $PG_RC -eq 0 ]] || die "stage 'postgres' failed (pytest exit code $PG_RC)"
else
    if wants sqlite; then
        header "sqlite: pytest -m 'not browser'"
        sqlite_env
        echo "CIBLE_DATABASE_URL=$CIBLE_DATABASE_URL"
        run_pytest sqlite "${SUITE_ARGS[@]}"
    fi
    if wants postgres; then
        header "postgres: start a server, pytest -m 'not browser'"
        pg_start
        sqlite_env # for a fresh var dir; the database URL is replaced just below
        export CIBLE_DATABASE_URL="$PG_URL"
        echo "CIBLE_DATABASE_URL=$CIBLE_DATABASE_URL"
        run_pytest postgres "${SUITE_ARGS[@]}"
        pg_stop
    fi
fi

# ---- (e) browser ----------------------------------------------------------------------------
if wants browser; then
    header "browser: pytest -m browser tests/browser (Chromium: $CIBLE_TEST_CHROMIUM)"
    [[ -x "$CIBLE_TEST_CHROMIUM" ]] || die "Chromium is missing at $CIBLE_TEST_CHROMIUM"
    sqlite_env
    run_pytest browser -m browser -p no:cacheprovider tests/browser
fi

header "all stages passed: $STAGES"
