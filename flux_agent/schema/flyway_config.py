"""Flyway's settings as a project's configuration gives them: a flyway.conf or flyway.toml, or a
Spring Boot application.properties or application.yml (`spring.flyway.*`), in the migrations'
folder or above it, the nearest file's value winning.

Its placeholders (`${name}`) are replaced as Flyway replaces them before it runs a file: with the
configured values, `${flyway:defaultSchema}` with the default schema (the configured one, else the
first of the configured schemas, else PostgreSQL's `public`), and a placeholder Flux has no value
for (one the build, a Spring profile or the environment sets) with its own name as a bare
identifier, so the file parses and its statements are judged (`${schema}.users` reads as
`schema.users`). Flyway replaces placeholders in the text, strings and comments too, before any SQL
is read: this module does the same, on text, with the prefix and suffix the configuration sets.

The table Flyway records its runs in (`table`, in the default schema) is read here too: what `flux
status` and `flux fix` ask to know which files ran."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from typing import Callable

CONFIG_NAMES = ("flyway.conf", "flyway.toml", "application.properties", "application.yml", "application.yaml")


@dataclass(frozen=True)
class FlywaySettings:
    """What the configuration above a folder sets: placeholders, the default schema, the history table."""

    values: dict = field(default_factory=dict)  # name -> value, as configured
    default_schema: str = "public"
    table: str = "flyway_schema_history"  # where Flyway records its runs (in the default schema)
    replace: bool = True  # placeholderReplacement
    prefix: str = "${"
    suffix: str = "}"
    mixed: bool = False  # Flyway runs a migration mixing statements it runs outside a transaction with others


def render(text: str, folder: str) -> str:
    """`text` (a Flyway migration in `folder`) with its placeholders replaced."""
    conf = settings(os.path.abspath(folder))
    if not conf.replace or conf.prefix not in text:
        return text
    return _pattern(conf.prefix, conf.suffix).sub(lambda m: _value(m.group(1), conf), text)


def config_paths(folder: str) -> list[str]:
    """The configuration files Flyway's placeholders are read from, whether or not they exist: in
    the folder and each folder above it, nearest first (what a cache of a file's findings keys on)."""
    return list(_config_paths(os.path.abspath(folder)))


@functools.lru_cache(maxsize=64)
def _config_paths(folder: str) -> tuple[str, ...]:
    out, here = [], folder
    while True:
        out += [os.path.join(here, name) for name in CONFIG_NAMES]
        up = os.path.dirname(here)
        if up == here:
            return tuple(out)
        here = up


def settings(folder: str) -> FlywaySettings:
    """The settings of the configuration files above `folder`, the nearest file's value winning;
    read again when one of them changed (a long-running server reads many runs)."""
    signature = []
    for path in _config_paths(folder):
        try:
            st = os.stat(path)
        except OSError:
            continue
        signature.append((path, st.st_mtime_ns, st.st_size))
    return _read(tuple(signature))


@functools.lru_cache(maxsize=64)
def _read(signature: tuple) -> FlywaySettings:
    found: dict = {}
    for path, _, _ in reversed(signature):  # farthest first: nearer files override
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            settings = _parsed(os.path.basename(path), text)
        except (OSError, UnicodeDecodeError, ValueError):  # TOMLDecodeError and YAMLError are ValueErrors here
            continue  # an unreadable configuration is Flyway's (or Spring's) to refuse, not Flux's
        values = {**found.get("values", {}), **settings.pop("values", {})}
        found.update(settings, values=values)
    schemas = found.pop("schemas", None)
    if "default_schema" not in found and schemas:
        found["default_schema"] = schemas[0]
    return FlywaySettings(**found)


def _parsed(name: str, text: str) -> dict:
    if name == "flyway.toml":
        return _toml(text)
    if name == "flyway.conf":
        return _flat(_properties(text), "flyway.")
    if name == "application.properties":
        return _flat(_properties(text), "spring.flyway.")
    import yaml  # only for a project that has an application.yml: every run of validate reads this module

    props: dict = {}
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None
    for doc in docs:  # the documents of no profile of their own: what every run reads
        leaves = dict(_leaves(doc))
        if not any(k.startswith(("spring.config.activate.on-profile", "spring.profiles")) for k in leaves):
            props.update(leaves)
    return _flat(props, "spring.flyway.")


def _properties(text: str) -> dict:
    """A Java properties file's `key=value` (or `key: value`) lines."""
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and ("=" in line or ":" in line):
            key, _, value = line.partition("=") if "=" in line else line.partition(":")
            props[key.strip()] = value.strip()
    return props


def _leaves(data, prefix: str = ""):
    """(dotted key, value) of each leaf of a YAML mapping, as Spring flattens it."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, f"{prefix}{k}.")
    elif isinstance(data, list) and all(not isinstance(v, (dict, list)) for v in data):
        yield prefix[:-1], ",".join(str(v) for v in data)
    elif data is not None and prefix:
        yield prefix[:-1], str(data)


def _flat(props: dict, prefix: str) -> dict:
    """The settings of flat `<prefix><setting>` keys: Flyway's camelCase, or Spring's kebab-case."""
    def get(setting: str):
        kebab = "".join("-" + c.lower() if c.isupper() else c for c in setting)
        return props.get(prefix + setting, props.get(prefix + kebab))

    start = prefix + "placeholders."
    out: dict = {"values": {k[len(start):]: v for k, v in props.items() if k.startswith(start)}}
    _settings(out, get("defaultSchema"), get("schemas"), get("placeholderReplacement"), get("placeholderPrefix"),
              get("placeholderSuffix"), get("table"), get("mixed"))
    return out


def _toml(text: str) -> dict:
    """A flyway.toml: `[flyway]` settings and placeholders, and the schemas of its environment."""
    import tomllib

    data = tomllib.loads(text)
    flyway = data.get("flyway") if isinstance(data.get("flyway"), dict) else {}
    environments = data.get("environments") if isinstance(data.get("environments"), dict) else {}
    env = environments.get(flyway.get("environment", "default"))
    env = env if isinstance(env, dict) else {}
    values = flyway.get("placeholders") if isinstance(flyway.get("placeholders"), dict) else {}
    out: dict = {"values": {str(k): str(v) for k, v in values.items()}}
    _settings(out, flyway.get("defaultSchema"), env.get("schemas", flyway.get("schemas")),
              flyway.get("placeholderReplacement"), flyway.get("placeholderPrefix"), flyway.get("placeholderSuffix"),
              flyway.get("table"), flyway.get("mixed"))
    return out


def _settings(out: dict, default_schema, schemas, replace, prefix, suffix, table=None, mixed=None) -> None:
    if mixed is not None:
        out["mixed"] = str(mixed).strip().lower() == "true"
    if default_schema:
        out["default_schema"] = str(default_schema)
    if isinstance(schemas, str):
        schemas = [s.strip() for s in schemas.split(",") if s.strip()]
    if isinstance(schemas, list) and schemas:
        out["schemas"] = [str(s) for s in schemas]
    if replace is not None:
        out["replace"] = str(replace).strip().lower() != "false"
    if prefix:
        out["prefix"] = str(prefix)
    if suffix:
        out["suffix"] = str(suffix)
    if table and "${" not in str(table):  # a Spring ${VARIABLE} the environment sets: Flyway's default stands
        out["table"] = str(table)


@functools.lru_cache(maxsize=8)
def _pattern(prefix: str, suffix: str) -> re.Pattern:
    # Template syntax, not SQL: Flyway finds its placeholders in the raw text.
    return re.compile(re.escape(prefix) + r"([A-Za-z0-9_.:-]+)" + re.escape(suffix))


def _value(name: str, conf: FlywaySettings) -> str:
    value = conf.values.get(name)
    if value is not None and "${" in value:  # Spring's own ${VARIABLE:default}: its default, else unknown
        spring = re.fullmatch(r"\$\{[^}:]*:([^}]*)\}", value)
        value = spring.group(1) if spring else None
    if value is not None:
        return value
    if name == "flyway:defaultSchema":
        return conf.default_schema
    return stand_in(name)


def stand_in(name: str) -> str:
    """The bare identifier a placeholder with no known value reads as: its name, folded to a word
    (`flyway:user` -> `flyway_user`), kept clear of PostgreSQL's reserved words and leading digits."""
    try:
        from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS
    except ImportError:  # no parser here (Windows): nothing will read the SQL, any word will do
        RESERVED_KEYWORDS = TYPE_FUNC_NAME_KEYWORDS = frozenset()
    word = re.sub(r"[^a-z0-9_]", "_", name.lower())
    if word[:1].isdigit() or word in RESERVED_KEYWORDS or word in TYPE_FUNC_NAME_KEYWORDS:
        word = "flyway_" + word
    return word


def templater(folder: str) -> Callable[[str], str]:
    """For SQL Flux writes into a Flyway folder whose migrations qualify names with placeholders
    (`${schema}.users`): the SQL with each schema qualifier that is such a placeholder's value as
    read (its configured value, or the name it reads as) put back as the placeholder, so a written
    file follows the project's own per-environment names instead of one environment's."""
    conf = settings(os.path.abspath(folder))
    used: set[str] = set()
    pattern = _pattern(conf.prefix, conf.suffix)
    for path in sorted(os.listdir(folder)) if conf.replace and os.path.isdir(folder) else ():
        if path.endswith(".sql"):
            try:
                with open(os.path.join(folder, path), encoding="utf-8") as fh:
                    used.update(pattern.findall(fh.read()))
            except (OSError, UnicodeDecodeError):
                continue
    by_value: dict[str, str] = {}
    for name in sorted(used):
        by_value.setdefault(_value(name, conf), conf.prefix + name + conf.suffix)
    if not by_value:
        return lambda sql: sql

    def template(sql: str, depth: int = 0) -> str:
        try:
            import pglast

            tokens = list(pglast.parser.scan(sql))
        except Exception:  # no parser here, or SQL it does not scan: written as planned
            return sql
        out, at = [], 0
        for tok, after in zip(tokens, tokens[1:] + [None]):
            text = sql[tok.start: tok.end + 1]
            if tok.name == "IDENT" and after is not None and after.name == "ASCII_46" and text in by_value:
                out += [sql[at: tok.start], by_value[text]]
                at = tok.end + 1
            elif tok.name == "SCONST" and depth < 3:  # a DO block's body, a 'schema.table'::regclass
                quote = text[: text.index("$", 1) + 1] if text.startswith("$") else "'" if text.startswith("'") else ""
                if quote and text.endswith(quote) and len(text) >= 2 * len(quote):
                    inner = text[len(quote): len(text) - len(quote)]
                    out += [sql[at: tok.start], quote + template(inner, depth + 1) + quote]
                    at = tok.end + 1
        return "".join(out) + sql[at:]

    return template

