"""The `flux` command (DESIGN.md section 3). Exit codes: 0 done, 1 refused,
2 bad input with one line on stderr and nothing written."""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import shutil
import sys
from typing import Optional, Sequence

from ..errors import FluxInputError, error_line, one_line
from .cli_args import parser as _parser


class _Lazy:
    """A module imported on first use: each command loads what it needs only (`flux validate`
    neither the planner, the writers, the dev database, the NL parser nor the agent)."""

    def __init__(self, name: str, light: Optional[dict] = None):
        self._name, self._light = name, light or {}

    def __getattr__(self, attr: str):
        module = importlib.import_module(self._light.get(attr, self._name), __package__)
        return getattr(module, attr)


nl = _Lazy("..nl.parser")
render = _Lazy("..plan.summary")
tools = _Lazy(".actions", {"validate_paths": ".validate"})  # validate's tool function: its own light module
report_formats = _Lazy(".report_formats")
report_sarif = _Lazy(".report_sarif")


def require_pglast(what: str) -> None:
    """pg.parse's one line where pglast is missing, asked without loading pglast (and pg.parse)
    where it is installed: a warm `flux validate` serves every file from its cache and parses nothing."""
    present = sys.modules["pglast"] is not None if "pglast" in sys.modules else (
        importlib.util.find_spec("pglast") is not None)
    if not present:
        from ..pg.parse import require_pglast as say

        say(what)


def run_agent(*args, **kwargs):
    from .agent import run_agent as run

    return run(*args, **kwargs)


def _agent_available() -> bool:
    key = os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")
    return bool(key) and importlib.util.find_spec("anthropic") is not None


def _request_operations(args, words: str):
    """The operations of a plain-English request: the built-in parser (flux_agent.nl.parser) first;
    None when it cannot read them and the agent should (ANTHROPIC_API_KEY set, no --nl)."""
    schema = tools.read_schema(args.project, args.tool, args.database_url)
    try:
        return nl.parse_request(words, schema)
    except FluxInputError as exc:
        if args.nl or not _agent_available():
            raise FluxInputError(f"{exc} (or give typed operations with --op JSON)") from None
        return None


def _plan_with_agent(args, words: str) -> int:
    """Claude plans the request through the Flux tools; a dry run unless --write."""
    request = words if args.write else f"{words}\n\n(Dry run: plan and check only; do not call write_migration.)"
    result = run_agent(request, args.project, stream_to=sys.stderr)
    plans = [c.output for c in result.tool_calls if c.name == "plan_migration" and not c.is_error]
    if not plans:
        raise FluxInputError(f"the agent made no plan: {result.text}")
    if args.json:  # the plan as the tool returned it, its summary rendered again for this surface, the CLI
        from ..model.plan import Plan

        print(Plan.model_validate(json.loads(plans[-1])["plan"]).model_dump_json(indent=2))
    else:
        print(result.text)
    return 0


def _plan(args) -> int:
    if args.op is None:
        words = " ".join(args.request).strip()
        if not words:
            raise FluxInputError("nothing to plan: describe the change (e.g. flux plan add an index on "
                                 "orders.user_id) or give --op JSON")
        ops = None if args.agent else _request_operations(args, words)
        if ops is None:
            return _plan_with_agent(args, words)
    else:
        ops = tools.load_operations(args.op)
    plan = tools.plan_migration(ops, args.project, tool=args.tool, pg_version=args.pg_version,
                                database_url=args.database_url)
    errors = [f for f in plan.findings if f.severity == "error"]
    outcome = None
    if args.write and not errors:
        outcome = tools.write_migration(plan, args.project)
        plan = outcome.plan or plan  # files are named when written, after anything written meanwhile
    if args.json:
        print(_unwritten_unnamed(plan).model_dump_json(indent=2) if outcome is not None else
              plan.model_dump_json(indent=2))
    else:
        print(render.summary(plan, width=_terminal_width()))
        if args.sql:
            _print_sql(plan)
        _print_model_changes(plan)
        if plan.findings:
            print()
            for f in plan.findings:
                where = f"step {f.step}: " if f.step is not None else ""
                print(f"{where}{f.severity} {f.rule}: {f.message}")
        if outcome is not None:
            _print_outcome(outcome)
        elif not (args.write and errors):
            print("\nNothing written (dry run): add --write to create the files.")
    if errors:
        if args.write:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            print(f"flux: plan refused, nothing written: {errors[0].rule}: "
                  f"{' '.join(errors[0].message.split())}{more}", file=sys.stderr)
        return 1
    return 0


def _unwritten_unnamed(plan):
    """The plan `--write` wrote, its steps left to `flux continue` with no files: they are named when
    they are written (a later stamp), so the names layout gave them would name files that never exist."""
    later = render.written_later(plan)
    return plan.model_copy(update={"steps": [s.model_copy(update={"files": []}) if s.number in later else s
                                             for s in plan.steps]})


def _terminal_width() -> Optional[int]:
    """Columns to wrap the summary to on a terminal; None (lines whole) when stdout is a pipe or file."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns  # honours COLUMNS


def _print_sql(plan) -> None:
    later = render.written_later(plan)
    for step in plan.steps:
        title = " ".join(step.title.split())
        if step.is_code:
            print(f"\n-- step {step.number} ({step.phase}): {title}: an application deploy, no SQL")
            continue
        where = " [written by `flux continue`]" if step.number in later else \
            f" [{', '.join(step.files)}]" if step.files else ""
        print(f"\n-- step {step.number} ({step.phase}): {title}{where}")
        if step.guard_sql:
            print("-- guard (its own query, run before up):")
            print(step.guard_sql.strip())
        print("-- up:")
        print(step.up_file_sql.strip() if step.up_file_sql else "-- (none)")
        print("-- down:")
        print(step.down_file_sql.strip() if step.down_file_sql else f"-- (none: {' '.join(step.rollback.split()) or 'no rollback SQL'})")


def _print_model_changes(plan) -> None:
    """The model changes the checklist asks for, as patches: text showed none of them, only --json did
    (nestjs-boilerplate's entities), then only --sql (redash's models: "apply the model changes" and
    nothing to apply)."""
    for change in (c for c in plan.code_changes if c.patch and not c.applied_by_flux):
        print(f"\n-- model change {change.path} (`patch -p1`): {' '.join(change.why.split())}")
        print(change.patch.rstrip("\n"))


def _print_outcome(outcome) -> None:
    if outcome.files:
        by = f" (formatted as the project does: {'; '.join(outcome.formatted_with)})" if outcome.formatted_with else ""
        print(f"\nWrote {len(outcome.files)} file(s){by}:")
        for path in outcome.files:
            print(f"  {path}")
        for note in outcome.notes:
            print(f"note: {note}")
    else:
        print("\nNo file written yet: the first step is an application deploy.")
    if outcome.remaining_steps:
        print(f"Next: {outcome.next}. The plan is kept in {outcome.record}: commit it with the migrations.")


def _fix(args) -> int:
    require_pglast("flux fix")
    from .fix import fix_files, text_lines

    results = fix_files(args.paths, args.project, args.tool, write=args.write, base=args.base,
                        database_url=args.database_url, pg_version=args.pg_version)
    if args.json:  # the plan as `flux plan --json` prints it; a list of them for several files
        plans = [json.loads(r.plan.model_dump_json()) for r in results]
        print(json.dumps(plans[0] if len(plans) == 1 else plans, indent=2))
    for line in text_lines(results, width=_terminal_width()) if not args.json else ():
        print(line)
    refused = [r.refused for r in results if r.refused]
    for line in refused:
        print(f"flux: {line}", file=sys.stderr)
    # As `flux plan`: a plan with an error finding (a statement no operation fits) is exit 1, written or not.
    return 1 if any(f.severity == "error" for r in results for f in r.plan.findings) else 0


def _continue(args) -> int:
    outcome = tools.continue_migration(args.project, args.plan)
    if args.json:
        print(outcome.model_dump_json(indent=2))
    else:
        _print_outcome(outcome)
        if not outcome.remaining_steps:
            print("Every step of the plan is written.")
    return 0


def _validate(args) -> int:
    require_pglast("flux validate")  # before the history replay or --include could say something less clear
    if args.json and args.format not in ("text", "json"):
        raise FluxInputError(f"--json and --format {args.format} ask for two outputs: give one")
    files, findings = tools.validate_paths(args.paths, args.project, include_rules=args.include, since=args.since)
    traced = None
    if args.trace:
        gc.enable()  # off for the command's start (entry/client.py); a trace's database run is long
        from ..project.config import load_settings
        from ..verify import trace

        project = tools.project_path(args.project)
        traced = trace.run_trace(files, project, load_settings(project), None, args.rows)
        findings = findings + trace.findings(traced)
    if args.json and traced is None:
        print(report_formats.json_lines(findings))
    elif args.json:
        print(json.dumps({"findings": [f.model_dump() for f in findings], "trace": traced.model_dump()}, indent=2))
    elif args.format == "sarif":
        from .. import __version__

        print(report_sarif.sarif_log(findings, version=__version__).dump())
    elif args.format == "github":
        for line in report_formats.github_annotations(findings):
            print(line)
        errors = sum(f.severity == "error" for f in findings)
        print(f"flux: {len(files)} file(s) checked: {errors} error(s), {len(findings) - errors} warning(s)")
    else:
        for line in trace.render(traced) if traced is not None else ():
            print(line)
        for line in report_formats.text_lines(findings, len(files)):
            print(line)
    return 1 if any(f.severity == "error" for f in findings) else 0


def _detect(args) -> int:
    found = tools.detect_tooling(args.project, args.tool)
    if args.json:
        print(found.model_dump_json(indent=2))
    else:
        print(f"tool: {found.tool}\ndialect: {found.dialect}\nmigrations: {found.migrations_dir}")
        if found.ambiguous:
            print(f"ambiguous: also found {', '.join(c for c in found.candidates if c != found.tool)}; "
                  f"choose with --tool, or `tool:` in .flux.yaml ([tool.flux] in pyproject.toml)")
        for line in found.evidence:
            print(f"  evidence: {line}")
    return 0


def _schema(args) -> int:
    schema, notes = tools.current_schema(args.project, args.tool, args.database_url)
    for note in notes:  # how the dev database read the project (statements its history could not run)
        print(f"flux: note: {one_line(note)}", file=sys.stderr)
    if args.json:
        print(schema.model_dump_json(indent=2))
    else:
        from .schema_text import schema_lines

        print("\n".join(schema_lines(schema)))
    return 0


def _verify(args) -> int:
    require_pglast("flux verify")
    # Imported here: verify's modules read pglast's trees (verify/seed.py), which the other commands do without.
    from ..verify import render_report, verify

    ops = tools.load_operations(args.op) if args.op is not None else None

    def progress(line: str) -> None:
        print(f"flux verify: {line}", file=sys.stderr, flush=True)

    # Progress is for a person watching; in a pipe or a log the report that follows says it all.
    report = verify(args.project, args.database_url, rows=args.rows, load=args.load, operations=ops,
                    i_know=args.i_know, progress=progress if sys.stderr.isatty() else None)
    print(report.model_dump_json(indent=2) if args.json else render_report(report))
    return 0 if report.ok else 1


def _mcp(args) -> int:
    from .mcp_server import main as serve  # imported here: the other commands need no MCP SDK

    serve()
    return 0


def _fail(text: str, code: int, as_json: bool) -> int:
    """One line on stderr; with --json also {"error", "exit"} on stdout for scripts (DESIGN.md section 3)."""
    line = one_line(text)
    print(f"flux: {line}", file=sys.stderr)
    if as_json:
        print(json.dumps({"error": line, "exit": code}))
    return code


def _status(args) -> int:
    from ..status.project import project_status
    from ..status.report import text_lines

    report = project_status(tools.project_path(args.project), args.database_url)
    if args.json:
        print(report.model_dump_json(indent=2))
        return 0
    for line in text_lines(report):
        print(line)
    return 0


def _daemon(args) -> int:
    from .daemon import command

    print(command(args.action))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in (argv[:argv.index("--")] if "--" in argv else argv)  # before parsing can fail
    try:
        parser = _parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version have printed; argparse errors raise FluxInputError
            return exc.code if isinstance(exc.code, int) else 0
        as_json = bool(getattr(args, "json", False))
        if args.command is None:
            # A missing command is bad input (exit 2, one line on stderr, as git does with a non-zero
            # exit); the usage it prints on stdout is what someone typing a bare `flux` came for.
            parser.print_help(sys.stdout)
            raise FluxInputError("no command given: choose one of plan, continue, status, fix, validate, detect, "
                                 "schema, verify, daemon, mcp (flux COMMAND --help for its flags)")
        handler = {"plan": _plan, "validate": _validate, "detect": _detect, "schema": _schema,
                   "mcp": _mcp, "continue": _continue, "verify": _verify, "fix": _fix,
                   "status": _status, "daemon": _daemon}[args.command]
        return handler(args)
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        return 0
    except Exception as exc:
        if os.environ.get("FLUX_DEBUG"):
            raise
        text, code = error_line(exc)  # the same line the MCP server and the agent give
        return _fail(text, code, as_json)

if __name__ == "__main__":
    sys.exit(main())
