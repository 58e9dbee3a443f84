"""Paths and names every module agrees on. Paths derive from PROJECT_ROOT, never the cwd."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
DEFS_DIR = PACKAGE_DIR / "defs"

DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_WAREHOUSE_PATH = DATA_DIR / "warehouse.duckdb"
DEFAULT_LANDING_DIR = DATA_DIR / "landing"
DEFAULT_QUARANTINE_DIR = DATA_DIR / "quarantine"
DEFAULT_REPORT_DIR = DATA_DIR / "reports"
DEFAULT_EXPORT_DIR = DATA_DIR / "exports"
DEFAULT_BACKUP_DIR = DATA_DIR / "backups"
DEFAULT_ALERT_LOG_PATH = DATA_DIR / "alerts" / "alerts.jsonl"
DEFAULT_DUCKLAKE_DATA_PATH = DATA_DIR / "lake"

# Environment variables read by EnvVar at launch time (see pipeline/paths.py).
WAREHOUSE_PATH_ENV = "WAREHOUSE_PATH"
LANDING_DIR_ENV = "LANDING_DIR"
QUARANTINE_DIR_ENV = "QUARANTINE_DIR"
REPORT_DIR_ENV = "REPORT_DIR"
EXPORT_DIR_ENV = "EXPORT_DIR"
BACKUP_DIR_ENV = "BACKUP_DIR"
ALERT_LOG_PATH_ENV = "ALERT_LOG_PATH"
ALERT_WEBHOOK_URL_ENV = "ALERT_WEBHOOK_URL"
ARCHIVE_DIR_ENV = "ARCHIVE_DIR"
# The warehouse backend (pipeline/warehouse/backends.py): "duckdb" (the file, default) or "ducklake",
# whose catalog is a libpq connection string (no password: libpq reads PGPASSWORD) and whose data
# files go under DUCKLAKE_DATA_PATH (a folder, or object storage in production).
WAREHOUSE_BACKEND_ENV = "WAREHOUSE_BACKEND"
DUCKLAKE_CATALOG_ENV = "DUCKLAKE_CATALOG"
DUCKLAKE_DATA_PATH_ENV = "DUCKLAKE_DATA_PATH"

RAW_SCHEMA = "raw"
STAGING_SCHEMA = "staging"
MARTS_SCHEMA = "marts"
