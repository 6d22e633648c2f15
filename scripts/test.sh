#!/usr/bin/env bash
# The whole test suite: lint, types, tests on SQLite, the same on PostgreSQL, browser tests.
# Outside CI a missing PostgreSQL or Chromium skips that suite LOUDLY; with CI=true nothing may be skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
ONLY="${1:-all}"
PG_URL="${SANLIAN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
export SANLIAN_DATA_DIR="${SANLIAN_TEST_DATA_DIR:-$PWD/var/test}"
mkdir -p "$SANLIAN_DATA_DIR"
failed=()
skipped=()
started=$SECONDS

step() {  # step NAME command...
  local name=$1; shift
  echo
  echo "==== $name ===="
  local t0=$SECONDS
  if "$@"; then echo "---- $name: ok ($((SECONDS - t0)) s)"; else echo "---- $name: FAILED ($((SECONDS - t0)) s)"; failed+=("$name"); fi
}

skip() {  # skip NAME REASON
  if [[ "${CI:-}" == "true" ]]; then
    echo "!!!! $1 cannot run under CI: $2" >&2; failed+=("$1 (not run: $2)")
  else
    echo "!!!!!!!! SKIPPED $1: $2 !!!!!!!!" >&2; skipped+=("$1: $2")
  fi
}

pg_up() { "$BIN/python" - "$PG_URL" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception as exc:
    print(exc, file=sys.stderr); sys.exit(1)
PY
}

if [[ $ONLY == all ]]; then
  step "ruff" "$BIN/ruff" check src tests
  step "ruff format" "$BIN/ruff" format --check src tests
  step "ruff bench (its smoke test, tests/bench, runs in the PostgreSQL suite)" bash -c "$BIN/ruff check bench && $BIN/ruff format --check bench"
  step "mypy" "$BIN/mypy" src
  step "django check --deploy" env SANLIAN_ENV=production SANLIAN_SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(64))')" \
       SANLIAN_ALLOWED_HOSTS=sanlian.example.gov.cn "$BIN/sanlian" check --deploy --fail-level WARNING
  step "migrations are complete" "$BIN/sanlian" makemigrations --check --dry-run
fi
if [[ $ONLY == all || $ONLY == sqlite ]]; then
  step "tests on SQLite" "$BIN/pytest" -q -n 2 -m "not browser"
fi
if [[ $ONLY == all || $ONLY == postgres ]]; then
  if pg_up; then
    step "tests on PostgreSQL" env DATABASE_URL="$PG_URL" "$BIN/pytest" -q -n 2 -m "not browser"
  else
    skip "tests on PostgreSQL" "no PostgreSQL at $PG_URL"
  fi
fi
if [[ $ONLY == all || $ONLY == browser ]]; then
  if [[ -x /usr/bin/chromium ]]; then
    step "browser tests (headless Chromium)" "$BIN/pytest" -q -m browser
  else
    skip "browser tests" "/usr/bin/chromium is not installed (apt-get install chromium fonts-noto-cjk)"
  fi
fi

echo
echo "==== summary ($((SECONDS - started)) s) ===="
for s in "${skipped[@]}"; do echo "SKIPPED: $s"; done
if ((${#failed[@]})); then
  for f in "${failed[@]}"; do echo "FAILED: $f"; done
  exit 1
fi
echo "all suites passed"
