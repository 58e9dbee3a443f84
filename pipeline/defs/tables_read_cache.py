"""The tables each SQL file of the code location reads, kept beside the SQL so a load runs no sqlglot.

An asset's deps are the tables its SQL reads (``tables_read``, pipeline/warehouse/lineage.py), and
deriving them imports and runs sqlglot: about 0.2 s of every code-location load. So
``tables_read_cache.json`` records, for each SQL file the load asks about, the SHA-256 of its text
and the tables it reads. An entry answers only for the exact text it was derived from; any other
text is parsed by sqlglot, so an edited file has its new deps whether or not the file was refreshed.
``python -m pipeline.defs.tables_read_cache`` rewrites it from the SQL as it is
(pipeline_tests/defs/test_tables_read_cache.py fails until then).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline.constants import PROJECT_ROOT

CACHE_FILE = Path(__file__).with_name("tables_read_cache.json")
REFRESH_COMMAND = ".venv/bin/python -m pipeline.defs.tables_read_cache"


def text_digest(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


class TablesReadCache:
    """``tables_read`` from ``cache_file`` for the SQL texts it was derived from, from sqlglot otherwise.

    Files are named by their path under ``root``. ``asked`` keeps what this process asked and
    found, as ``cache_file`` records it.
    """

    def __init__(self, cache_file: Path, root: Path) -> None:
        self.cache_file = cache_file
        self.root = root
        self.asked: dict[str, dict] = {}
        self._recorded: dict[str, dict] | None = None

    def tables_read(self, sql: str, *, sql_file: str | Path) -> frozenset[str]:
        """The tables ``sql``, the text of ``sql_file``, reads: as ``lineage.tables_read`` gives them."""
        name = self._name(sql_file)
        digest = text_digest(sql)
        entry = self.recorded().get(name)
        if entry is not None and entry["sha256"] == digest:
            read = frozenset(entry["reads"])
        else:
            from pipeline.warehouse.lineage import tables_read

            read = tables_read(sql, sql_file=str(sql_file))
        self.asked[name] = {"sha256": digest, "reads": sorted(read)}
        return read

    def recorded(self) -> dict[str, dict]:
        """The entries of ``cache_file`` (none when it does not exist), read once."""
        if self._recorded is None:
            self._recorded = json.loads(self.cache_file.read_text()) if self.cache_file.exists() else {}
        return self._recorded

    def write(self) -> None:
        """``cache_file`` holding what this process asked: one entry per file, sorted by name."""
        self.cache_file.write_text(json.dumps(dict(sorted(self.asked.items())), indent=2) + "\n")

    def _name(self, sql_file: str | Path) -> str:
        path = Path(sql_file)
        if not path.is_absolute():
            return path.as_posix()
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.as_posix()


CODE_LOCATION_TABLES_READ = TablesReadCache(CACHE_FILE, PROJECT_ROOT)


def main() -> None:
    """Load the code location, so it asks about every SQL file it derives deps from, and record them."""
    import pipeline.definitions  # noqa: F401

    # Run as ``-m``, this module is __main__; the load used the instance of its imported namesake.
    from pipeline.defs.tables_read_cache import CODE_LOCATION_TABLES_READ as used_by_the_load

    used_by_the_load.write()
    print(f"{used_by_the_load.cache_file}: {len(used_by_the_load.asked)} SQL files")


if __name__ == "__main__":
    main()
