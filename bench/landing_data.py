"""The benchmark's data: a size's landing folder, generated once and cached, and read into the page cache."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from bench import generate


def _generator_digest() -> str:
    return hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()[:16]


def prepare_landing(size_dir: Path, rows: int, seed: int) -> Path:
    """The size's landing folder, generated unless an identical generation is already there."""
    landing_dir = size_dir / "landing"
    manifest_path = size_dir / "generated.json"
    wanted = {"rows": rows, "seed": seed, "generator": _generator_digest()}
    if manifest_path.is_file() and json.loads(manifest_path.read_text()).get("request") == wanted:
        return landing_dir
    shutil.rmtree(landing_dir, ignore_errors=True)
    manifest_path.unlink(missing_ok=True)
    generated = generate.generate(landing_dir, rows, seed)
    manifest_path.write_text(json.dumps({"request": wanted, "generated": asdict(generated)}, indent=2))
    return landing_dir


def warm_page_cache(landing_dir: Path) -> int:
    """Read every landed file once so no variant pays for the first read from disk."""
    total = 0
    for path in sorted(landing_dir.iterdir()):
        with open(path, "rb") as handle:
            while block := handle.read(1 << 24):
                total += len(block)
    return total
