"""The `flux` command's arguments: every subcommand, its flags and their help (cli.py runs them)."""

from __future__ import annotations

import argparse

from ..errors import FluxInputError
from ..model.settings import Settings


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise FluxInputError(message)


class _Version(argparse.Action):
    """--version, the version read only when asked (importlib.metadata is slow to import)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from .. import __version__

        print(f"flux {__version__}")
        parser.exit()


EXAMPLES = """examples:
  flux plan rename users.email to email_address    # the deployment summary; writes nothing
  flux plan --sql add an index on orders.user_id   # ... and each step's up and down SQL
  flux plan --write make users.name required       # write the steps before the first code deploy
  flux continue                                    # after that deploy: write the next steps
  flux validate db/migrations                      # judge migration files someone wrote
  flux fix db/migrations/0042_rename.sql           # that file's unsafe statements as Flux's safe steps
  flux verify                                      # run the pending plan on a scratch PostgreSQL
  flux status --database-url $DATABASE_URL         # which steps production has applied; what next
  flux daemon start                                # keep Flux loaded: each flux validate starts at once"""

_PROJECT = "the project folder (default: the current folder)"
_JSON = "print JSON instead of text; an error is also printed as {\"error\": ..., \"exit\": N}"
_TOOL = "the migration tool (sql, dbmate, prisma, alembic, rails, ...); default: detected from the project"
_OPS = "typed operations as JSON, or @FILE (.json/.yaml), instead of a request in words"


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="flux", description="Zero-downtime PostgreSQL migrations.", epilog=EXAMPLES,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    plan = sub.add_parser("plan", help="plan a schema change (and write it with --write)")
    plan.add_argument("request", nargs="*",
                      help="the change in plain English, e.g. rename users.email to email_address")
    plan.add_argument("--project", default=".", help=_PROJECT)
    plan.add_argument("--op", help=_OPS)
    plan.add_argument("--tool", help=_TOOL)
    plan.add_argument("--write", action="store_true",
                      help="write the migration files of the steps before the first code deploy")
    plan.add_argument("--json", action="store_true", help=_JSON)
    plan.add_argument("--sql", action="store_true",
                      help="after the summary, print each step's up and down SQL and the model changes' patches "
                           "(--json always holds them)")
    plan.add_argument("--pg-version", type=int, metavar="N",
                      help="the PostgreSQL major version of production (default: pg_version in the settings, "
                      f"else {Settings.model_fields['pg_version'].default})")
    plan.add_argument("--database-url", help="read the schema and table sizes from this database (read-only)")
    how = plan.add_mutually_exclusive_group()
    how.add_argument("--nl", action="store_true",
                     help="read the request with the built-in parser only, never a model")
    how.add_argument("--agent", action="store_true",
                     help="hand the request to Claude (needs ANTHROPIC_API_KEY), skipping the built-in parser")

    val = sub.add_parser("validate", help="judge migration files")
    val.add_argument("paths", nargs="*",
                     help="migration files or folders (with --since, default: every migrations folder of the "
                          "project: each Django app's, each alembic section's, Rails' db/*migrate)")
    val.add_argument("--project", default=".", help=_PROJECT)
    val.add_argument("--json", action="store_true", help=_JSON + "; the same as --format json")

    class _Format(argparse.Action):  # --format json is --json, errors printed as JSON included
        def __call__(self, parser, namespace, values, option_string=None):
            namespace.format = values
            namespace.json = namespace.json or values == "json"

    val.add_argument("--format", action=_Format, choices=("text", "json", "sarif", "github"), default="text",
                     help="text (default), json, sarif (SARIF 2.1.0 for code scanning) or github "
                          "(GitHub Actions annotations on the pull request's lines)")
    val.add_argument("--since", metavar="GIT_REF",
                     help="judge only the files added or changed since this git ref (against its merge base "
                          "with HEAD, plus uncommitted and untracked files); the older ones still build the schema")
    val.add_argument("--include", action="append", default=[], metavar="RULE",
                     help="switch on an opt-in rule (repeatable), as squawk's -i")
    val.add_argument("--trace", action="store_true",
                     help="also run the files on a copy of the dev database with rows in its tables: the locks "
                          "and rewrites PostgreSQL shows for each statement, and where they differ from the verdict")
    val.add_argument("--rows", type=int, default=1000, help="rows per table for --trace (default 1000)")

    fix = sub.add_parser("fix", help="plan an unsafe migration file as safe steps (replace it with --write)")
    fix.add_argument("paths", nargs="+", metavar="FILE", help="migration files, in any format validate reads")
    fix.add_argument("--project", default=".", help=_PROJECT)
    fix.add_argument("--tool", help=_TOOL)
    fix.add_argument("--write", action="store_true",
                     help="replace the file by Flux's files, only if it is new since the git base and not applied")
    fix.add_argument("--base", metavar="REF", help="the git base (default: the upstream branch, else HEAD)")
    fix.add_argument("--database-url", help="also refuse a file recorded in this database's migrations table")
    fix.add_argument("--pg-version", type=int, metavar="N", help="the PostgreSQL major version of production")
    fix.add_argument("--json", action="store_true", help=_JSON)

    cont = sub.add_parser("continue", help="write the next steps of a plan after its code deploy")
    cont.add_argument("--project", default=".", help=_PROJECT)
    cont.add_argument("--plan", help="the plan record id when several have steps left")
    cont.add_argument("--json", action="store_true", help=_JSON)

    det = sub.add_parser("detect", help="which migration tool the project uses")
    det.add_argument("--project", default=".", help=_PROJECT)
    det.add_argument("--tool", help="use this migration tool instead of detecting it")
    det.add_argument("--json", action="store_true", help=_JSON)

    sch = sub.add_parser("schema", help="the current schema as Flux reads it")
    sch.add_argument("--project", default=".", help=_PROJECT)
    sch.add_argument("--tool", help=_TOOL)
    sch.add_argument("--database-url", help="read this live database (read-only) instead of the migrations")
    sch.add_argument("--json", action="store_true", help=_JSON)

    ver = sub.add_parser("verify", help="run the plan forward, back and forward on a scratch database")
    ver.add_argument("--project", default=".", help=_PROJECT)
    ver.add_argument("--database-url", help="a server to create a scratch database on (default: an embedded "
                     "PostgreSQL in a temporary folder)")
    ver.add_argument("--load", action="store_true", help="run old-code and new-code application traffic meanwhile")
    ver.add_argument("--rows", type=int, default=1000, help="synthetic rows per table (default 1000)")
    ver.add_argument("--op", help="verify these operations (JSON or @FILE) instead of the pending plan")
    ver.add_argument("--i-know", action="store_true", dest="i_know",
                     help="allow a --database-url that looks like production (not local, or named prod/live)")
    ver.add_argument("--json", action="store_true", help=_JSON)

    sta = sub.add_parser("status", help="which steps of the project's plans a database has applied, what failed "
                                        "half-way, and what to do next (read-only)")
    sta.add_argument("--project", default=".", help=_PROJECT)
    sta.add_argument("--database-url", help="read this database's catalogs (read-only); without it, the plan records alone")
    sta.add_argument("--json", action="store_true", help=_JSON)

    dae = sub.add_parser("daemon", help="keep Flux loaded in the background so `flux validate` starts at once "
                                        "(a pre-commit hook, an editor); FLUX_DAEMON=off runs without it")
    dae.add_argument("action", choices=("start", "stop", "status"))

    sub.add_parser("mcp", help="serve the tools over MCP (stdio)")
    return p
