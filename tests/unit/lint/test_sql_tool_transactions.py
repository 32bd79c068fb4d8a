"""Each SQL migration tool's transaction semantics reach the rules: the same CREATE INDEX
CONCURRENTLY is refused where the tool runs the file inside a transaction (drizzle always, Prisma
and golang-migrate as one multi-statement query, goose by default) or refuses the file (Flyway,
beside another statement: it runs the index outside a transaction, and will not mix) and passes
where it does not (alone in its Flyway file, as Flyway's parser runs it, or with a .conf saying
executeInTransaction=false; goose NO TRANSACTION, alone in its golang-migrate file, a sqitch script)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.lint.engine import validate_file
from flux_agent.model.settings import Settings
from flux_agent.schema.replay.engine import replay_sql

SCHEMA = replay_sql("CREATE TABLE users (id bigint PRIMARY KEY, email text);")
INDEX = "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"
TIMEOUT = "SET lock_timeout = '1s';\n"
IN_TRANSACTION = "ban-concurrent-index-creation-in-transaction"
MIXED = "flyway-mixed-statements"


def _layout(root: Path, tool: str, safe: bool) -> Path:
    if tool == "flyway":
        path = root / "db" / "migration" / "V2__email_index.sql"
        path.parent.mkdir(parents=True)
        path.write_text(INDEX if safe else TIMEOUT + INDEX)
    elif tool == "drizzle":
        path = root / "drizzle" / "0001_email_index.sql"
        (path.parent / "meta").mkdir(parents=True)
        (path.parent / "meta" / "_journal.json").write_text('{"entries": [{"idx": 1, "tag": "0001_email_index"}]}')
        path.write_text(INDEX)
        # Flux's manual step beside it, run by hand with psql: outside drizzle's transaction.
        manual = path.with_name("0001-01_manual_email_index.sql")
        manual.write_text(INDEX)
        found = {f.rule for f in validate_file(manual, Settings(pg_version=16), SCHEMA)}
        assert IN_TRANSACTION not in found, found
    elif tool == "prisma":
        path = root / "prisma" / "migrations" / "20240101000000_email_index" / "migration.sql"
        path.parent.mkdir(parents=True)
        path.write_text(INDEX if safe else TIMEOUT + INDEX)  # alone it is not in a transaction
    elif tool == "golang-migrate":
        path = root / "migrations" / "000002_email_index.up.sql"
        path.parent.mkdir(parents=True)
        path.write_text(INDEX if safe else TIMEOUT + INDEX)
    elif tool == "goose":
        path = root / "migrations" / "00002_email_index.sql"
        path.parent.mkdir(parents=True)
        path.write_text(("-- +goose NO TRANSACTION\n" if safe else "") + "-- +goose Up\n" + INDEX)
    else:  # sqitch: psql runs the script as it is
        path = root / "deploy" / "email_index.sql"
        path.parent.mkdir(parents=True)
        (root / "sqitch.plan").write_text("%project=x\nemail_index 2024-01-01T00:00:00Z a <a@b> # i\n")
        path.write_text(INDEX if safe else "BEGIN;\n" + INDEX + "COMMIT;\n")
    return path


@pytest.mark.parametrize("tool", ["flyway", "drizzle", "prisma", "golang-migrate", "goose", "sqitch"])
def test_the_tools_transaction_decides(tool, tmp_path):
    unsafe = _layout(tmp_path / "unsafe", tool, safe=False)
    rules = {f.rule for f in validate_file(unsafe, Settings(pg_version=16), SCHEMA)}
    assert (MIXED if tool == "flyway" else IN_TRANSACTION) in rules, (tool, rules)
    if tool == "drizzle":
        return  # drizzle has no way out of its transaction: the index is run by hand (Flux's writer says so)
    safe = _layout(tmp_path / "safe", tool, safe=True)
    rules = {f.rule for f in validate_file(safe, Settings(pg_version=16), SCHEMA)}
    assert IN_TRANSACTION not in rules, (tool, rules)


def test_flyway_runs_a_mix_where_its_configuration_says_mixed(tmp_path):
    """`mixed=true` in flyway.conf: Flyway runs the whole migration without a transaction, mix and all."""
    path = _layout(tmp_path, "flyway", safe=False)
    (tmp_path / "flyway.conf").write_text("flyway.mixed=true\n")
    rules = {f.rule for f in validate_file(path, Settings(pg_version=16), SCHEMA)}
    assert not {MIXED, IN_TRANSACTION} & rules, rules


def test_flyway_runs_a_mix_its_conf_tells_how_to_run(tmp_path):
    """A .conf saying executeInTransaction (Flux's own non-transactional steps: timeouts, then the
    build): Flyway runs the migration as told, mix and all; told `true`, the build fails in it."""
    path = _layout(tmp_path, "flyway", safe=False)
    conf = path.with_name(path.name + ".conf")
    for told, expected in (("false", set()), ("true", {IN_TRANSACTION})):
        conf.write_text(f"executeInTransaction={told}\n")
        rules = {f.rule for f in validate_file(path, Settings(pg_version=16), SCHEMA)}
        assert {MIXED, IN_TRANSACTION} & rules == expected, (told, rules)
