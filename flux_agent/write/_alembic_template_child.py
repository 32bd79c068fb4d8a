"""Run by path with the project's interpreter (standard library, alembic and its Mako: what `alembic
revision` renders with): the project's script.py.mako rendered for each revision in the JSON on stdin,
with the arguments ScriptDirectory.generate_revision gives it; the texts printed as a JSON list."""

import datetime
import json
import sys


def main() -> None:
    args = json.loads(sys.stdin.read())
    from alembic.util import format_as_comma
    from mako.template import Template

    template = Template(filename=args["template"])
    out = []
    for kw in args["revisions"]:
        kw = dict(kw, create_date=datetime.datetime.fromisoformat(kw["create_date"]))
        out.append(template.render_unicode(comma=format_as_comma, **kw))
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
