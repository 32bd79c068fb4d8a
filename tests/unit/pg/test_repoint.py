"""Re-pointing what PostgreSQL printed from one column to another keeps everything else:
an index's method, operator classes, expressions, predicate and INCLUDE columns; a view's
output names and the references that belong to other tables or to subqueries' own scopes."""

from __future__ import annotations

import pytest

from flux_agent.pg.repoint import CannotRepoint, index_copy, policy_alter, view_query


def test_index_copy_keeps_method_opclass_expression_predicate_and_include():
    got = index_copy("CREATE INDEX a_lower ON public.a USING btree (lower(email) text_pattern_ops) "
                     "INCLUDE (email, id) WHERE (email IS NOT NULL)", "a", "email", "mail", "a_lower_flux")
    assert got == ("CREATE INDEX CONCURRENTLY IF NOT EXISTS a_lower_flux ON a ((lower(mail)) text_pattern_ops) "
                   "INCLUDE (mail, id) WHERE mail IS NOT NULL")


def test_index_copy_of_a_gin_opclass_names_the_table_as_the_plan_does():
    got = index_copy("CREATE INDEX t ON public.a USING gin (nick gin_trgm_ops)", "app.a", "nick", "name", "t2",
                     concurrently=False)
    assert got == "CREATE INDEX t2 ON app.a USING gin (name gin_trgm_ops)"


def test_view_keeps_its_output_names_and_other_tables_columns():
    got = view_query(" SELECT u.id, u.email, o.email AS order_email FROM (users u JOIN orders o ON o.uid = u.id) "
                     "WHERE u.email IN (SELECT x.email FROM users x);", "users", "email", "email_address")
    assert got == ("SELECT u.id, u.email_address AS email, o.email AS order_email FROM users AS u "
                   "INNER JOIN orders AS o ON o.uid = u.id "
                   "WHERE u.email_address IN (SELECT x.email_address AS email FROM users AS x)")


@pytest.mark.parametrize("definition, why", [
    (" SELECT a.id FROM (users a JOIN people b USING (email));", "joins USING (email)"),
    (" SELECT email FROM users;", "an unqualified reference to email"),
    (" SELECT p.email FROM people p;", "no reference to users.email"),
])
def test_views_it_cannot_rewrite_safely_are_refused_with_why(definition, why):
    with pytest.raises(CannotRepoint, match=why.replace("(", r"\(").replace(")", r"\)")):
        view_query(definition, "users", "email", "email_address")


def test_policy_alter_re_points_both_expressions():
    got = policy_alter("CREATE POLICY p ON t FOR ALL TO PUBLIC USING ((tenant = 1)) WITH CHECK ((tenant > 0))",
                       "t", "tenant", "org")
    assert got == "ALTER POLICY p ON t USING (org = 1) WITH CHECK (org > 0)"
    assert policy_alter("CREATE POLICY p ON t FOR SELECT TO PUBLIC USING ((tenant = 1))", "t") == \
        "ALTER POLICY p ON t USING (tenant = 1)"
