"""The migration corpus under tests/corpus, judged against the examples/shop schema.

unsafe/*.sql: real-world mistakes, each naming on its first line the rules it must
trip (`-- expect: rule-id[, rule-id]`); flux must report at least those.
safe/*.sql: the same changes done right; flux must report nothing at all.

The same files side by side with squawk: tests/integration/lint/test_corpus_squawk.py.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from flux_agent.model.settings import Settings
from flux_agent.schema.replay.engine import read_migrations_dir
from flux_agent.lint.engine import validate_file

from shop import MIGRATIONS, ROOT

CORPUS = ROOT / "tests" / "corpus"
UNSAFE = sorted((CORPUS / "unsafe").glob("*.sql"))
SAFE = sorted((CORPUS / "safe").glob("*.sql"))
SCHEMA = read_migrations_dir(MIGRATIONS)
SETTINGS = Settings(pg_version=16)


def expected(path: Path) -> set[str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("-- expect:"), f"{path.name}: first line must be `-- expect: rule-id[, rule-id]`"
    return {r.strip() for r in first[len("-- expect:"):].split(",") if r.strip()}


@lru_cache(maxsize=None)
def flux(path: Path):
    return tuple(validate_file(path, SETTINGS, SCHEMA, display=path.name))


def test_corpus_size():
    assert len(UNSAFE) >= 40 and len(SAFE) >= 20, (len(UNSAFE), len(SAFE))


@pytest.mark.parametrize("path", UNSAFE, ids=[p.stem for p in UNSAFE])
def test_unsafe_file_is_flagged_with_expected_rules(path):
    want = expected(path)
    got = {f.rule for f in flux(path)}
    missing = want - got
    assert not missing, f"{path.name}: expected {sorted(missing)}, flux reported {sorted(got)}"


@pytest.mark.parametrize("path", SAFE, ids=[p.stem for p in SAFE])
def test_safe_file_is_clean(path):
    found = [f"{f.line}: {f.rule}: {f.message}" for f in flux(path)]
    assert not found, f"{path.name}:\n" + "\n".join(found)
