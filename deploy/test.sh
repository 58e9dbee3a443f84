#!/usr/bin/env bash
# Everything the tests need, then the whole suite (the README's test command; .ci/run calls it too).
#   bash deploy/test.sh               set up, run the main suite (.venv) and the lake suite (.venv-lake)
#   bash deploy/test.sh --setup-only  set up only
# Setup: chromium, PostgreSQL and Redis from apt-get when missing and run as root (otherwise it says
# what to install), PostgreSQL started on 127.0.0.1:5432 trusting 127.0.0.1, Redis on 127.0.0.1:6379,
# and both virtual environments, reinstalled only when pyproject.toml or setup.py changed.
# Tests whose service is still missing are skipped with the reason (failed under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

setup_only=false
case "${1:-}" in
  "") ;;
  --setup-only) setup_only=true ;;
  *) echo "usage: bash deploy/test.sh [--setup-only]" >&2; exit 2 ;;
esac

if [ "${CI:-}" = true ]; then consequence="fail (CI=true)"; else consequence="be skipped"; fi
is_root() { [ "$(id -u)" -eq 0 ]; }
listening() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
postgres_trusts_us() { psql -h 127.0.0.1 -p 5432 -U postgres -w -Atqc 'select 1' >/dev/null 2>&1; }

install_missing_packages() {
  local missing=()
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
  command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ "${#missing[@]}" -eq 0 ] && return
  if is_root && command -v apt-get >/dev/null; then
    echo "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing: ${missing[*]}. Install them (Debian: sudo apt-get install ${missing[*]}), or run this" \
      "script as root to do it; until then the tests that need them will $consequence."
  fi
}

start_postgres() {
  postgres_trusts_us && return
  if ! is_root || ! command -v pg_ctlcluster >/dev/null; then
    echo "PostgreSQL does not accept user postgres without a password on 127.0.0.1:5432: start one" \
      "that trusts 127.0.0.1 (or run this script as root); the tests marked needs_postgres" \
      "(stack, browser, distributed, DuckLake) will $consequence."
    return
  fi
  local version hba
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # The tests connect as postgres without a password and create their own databases.
  if ! grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  else
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  for _ in $(seq 1 30); do postgres_trusts_us && return; sleep 1; done
  echo "PostgreSQL $version did not accept trusted connections on 127.0.0.1:5432" >&2
  exit 1
}

start_redis() {
  listening 127.0.0.1 6379 && return
  if command -v redis-server >/dev/null; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
    for _ in $(seq 1 10); do listening 127.0.0.1 6379 && return; sleep 1; done
  fi
  echo "Redis is not listening on 127.0.0.1:6379: the Celery tests marked needs_redis" \
    "(pipeline_tests/deploy/test_distributed.py) will $consequence."
}

# A virtual environment with the project installed editable with the given extras; reinstalled
# only when the packaging files (or the extras) changed since the stamp was written.
ensure_venv() {
  local venv="$1" extras="$2" stamp="$1/.installed-from" wanted
  wanted="$extras $(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing the project into $venv ($extras)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -e ".[$extras]"
    echo "$wanted" > "$stamp"
  fi
}

install_missing_packages
start_postgres
start_redis
ensure_venv .venv test,dev
# The DuckLake extensions exist for duckdb 1.5.5 only: the lake tests have an environment of their own.
ensure_venv .venv-lake test,lake

$setup_only && exit 0

status=0
.venv/bin/pytest || status=1
.venv-lake/bin/pytest -m lake || status=1
exit "$status"
