"""The instance's PostgreSQL database: its settings from the environment, created if missing.

deploy/dagster.yaml reads the same DAGSTER_PG_* variables, so the stack and Dagster agree.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg2
from psycopg2 import sql

from deploy import StackError

DEFAULTS = {
    "DAGSTER_PG_HOST": "127.0.0.1",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USER": "postgres",
    "DAGSTER_PG_PASSWORD": "",
    "DAGSTER_PG_DB": "dagster",
}
# What may be written down (in the stack's state file): everything but the password.
RECORDABLE = tuple(name for name in DEFAULTS if name != "DAGSTER_PG_PASSWORD")


def ensure_database(env: Mapping[str, str]) -> None:
    """Create the database ``DAGSTER_PG_DB`` unless it exists (Dagster creates the tables)."""
    name = env["DAGSTER_PG_DB"]
    try:
        conn = psycopg2.connect(
            host=env["DAGSTER_PG_HOST"],
            port=env["DAGSTER_PG_PORT"],
            user=env["DAGSTER_PG_USER"],
            password=env["DAGSTER_PG_PASSWORD"],
            dbname="postgres",
        )
    except psycopg2.OperationalError as error:
        raise StackError(
            f"Cannot reach PostgreSQL at {env['DAGSTER_PG_HOST']}:{env['DAGSTER_PG_PORT']} as "
            f"{env['DAGSTER_PG_USER']}: {error}".strip()
        ) from error
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    finally:
        conn.close()
