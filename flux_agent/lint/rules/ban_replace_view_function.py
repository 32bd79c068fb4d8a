"""CREATE OR REPLACE VIEW / FUNCTION / PROCEDURE / TRIGGER / RULE / AGGREGATE:
running code silently gets the new behaviour."""

from pglast import ast
from pglast.enums import ObjectType

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-replace-view-function",
    severity="warning",
    message="replacing a view or function silently changes behaviour for running code",
    hint=("create a new version under a new name and move callers, or say why it is safe: "
          "-- squawk-ignore ban-replace-view-function -- <why>"),
    squawk="opt-in",
    nodes=(ast.ViewStmt, ast.CreateFunctionStmt, ast.CreateTrigStmt, ast.RuleStmt),
    opt_in=True,
    examples=[
        flags("CREATE OR REPLACE VIEW v AS SELECT 1 AS id;"),
        flags("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';"),
        flags("CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS 'select 1';"),
        flags("CREATE OR REPLACE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();"),
        flags("CREATE OR REPLACE RULE r AS ON INSERT TO t DO NOTHING;"),
        passes("CREATE VIEW v AS SELECT 1;"),
        passes("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, (ast.ViewStmt, ast.CreateFunctionStmt, ast.CreateTrigStmt, ast.RuleStmt))
                   and n.replace
                   or isinstance(n, ast.DefineStmt) and n.kind == ObjectType.OBJECT_AGGREGATE and n.replace)
