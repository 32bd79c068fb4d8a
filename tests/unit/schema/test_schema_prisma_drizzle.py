"""Prisma schema and drizzle-kit snapshot readers: inline examples per mapping rule, then real projects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flux_agent.errors import FluxInputError
from flux_agent.model.schema import Column, Constraint, EnumType, Index, View
from flux_agent.schema.readers.drizzle import latest_snapshot, read_drizzle_snapshot, schema_from_snapshot
from flux_agent.schema.readers.prisma import parse_prisma, read_prisma, read_prisma_project
from flux_agent.schema.replay.engine import read_migrations_dir, replay_sql

from shop import ROOT

REAL = ROOT.parent / "shared" / "fixtures" / "real"

DS = 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n'


def prisma(tmp_path: Path, body: str, datasource: str = DS):
    path = tmp_path / "schema.prisma"
    path.write_text(datasource + body)
    return read_prisma(path)


def fk(table, name):
    return next(c for c in table.constraints if c.name == name)


def idx(table, name):
    return next(i for i in table.indexes if i.name == name)


def need(sub: str) -> Path:
    path = REAL / sub
    if not path.exists():
        pytest.skip(f"real-world fixture {path} is absent (../shared/fixtures/real is not part of this repository)")
    return path


# --------------------------------------------------------------------------
# Prisma: the language
# --------------------------------------------------------------------------


def test_parser_reads_blocks_comments_and_nested_arguments():
    blocks = parse_prisma(
        """
        generator client {
          provider = "prisma-client-js"
          previewFeatures = ["multiSchema", "views"]
        }
        /// documented model // with a comment
        model Post {
          id    Int    @id @default(autoincrement()) // trailing comment
          title String @db.VarChar(200)
          tags  String[]
          tsv   Unsupported("tsvector")?
          @@index([title(sort: Desc, ops: raw("gin_trgm_ops"))], map: "post_title", type: Gin)
          @@map(name: "posts")
        }
        enum Role {
          USER  @map("user")
          ADMIN
        }
        """
    )
    gen, post, role = blocks
    assert gen.settings["previewFeatures"] == ["multiSchema", "views"]
    assert [f.name for f in post.fields] == ["id", "title", "tags", "tsv"]
    assert post.fields[2].is_list and post.fields[3].optional
    assert post.fields[3].type_args == [(None, "tsvector")]
    assert [a.name for a in post.fields[1].attrs] == ["db.VarChar"]
    assert [a.name for a in post.attrs] == ["index", "map"]
    assert [f.name for f in role.fields] == ["USER", "ADMIN"]


def test_syntax_errors_name_file_and_line(tmp_path):
    with pytest.raises(FluxInputError, match=r"schema.prisma:7: expected ident, found end of line"):
        prisma(tmp_path, "model A {\n  id Int @id\n  name\n}\n")
    with pytest.raises(FluxInputError, match="unknown block 'table'"):
        prisma(tmp_path, "table A {\n}\n")
    with pytest.raises(FluxInputError, match="unterminated string"):
        prisma(tmp_path, 'model A {\n  id Int @id @default("x)\n}\n')


def test_non_postgres_provider_and_unknown_types_are_refused(tmp_path):
    with pytest.raises(FluxInputError, match="'mysql' is not PostgreSQL"):
        prisma(tmp_path, "model A {\n  id Int @id\n}\n", 'datasource db {\n  provider = "mysql"\n}\n')
    with pytest.raises(FluxInputError, match="unknown type 'Strin'"):
        prisma(tmp_path, "model A {\n  id Strin @id\n}\n")
    with pytest.raises(FluxInputError, match="unknown native type @db.Varchar"):
        prisma(tmp_path, "model A {\n  id String @id @db.Varchar(3)\n}\n")


# --------------------------------------------------------------------------
# Prisma: mapping rules
# --------------------------------------------------------------------------


def test_scalar_types_and_nullability(tmp_path):
    s = prisma(
        tmp_path,
        """
        model Everything {
          s  String @id
          i  Int
          b  BigInt?
          f  Float
          d  Decimal?
          t  Boolean
          at DateTime?
          j  Json
          y  Bytes?
        }
        """,
    )
    t = s.table("Everything")  # the model name as is: Prisma keeps its case
    assert [(c.name, c.type, c.nullable) for c in t.columns] == [
        ("s", "text", False),
        ("i", "integer", False),
        ("b", "bigint", True),
        ("f", "double precision", False),
        ("d", "numeric(65,30)", True),
        ("t", "boolean", False),
        ("at", "timestamp(3) without time zone", True),
        ("j", "jsonb", False),
        ("y", "bytea", True),
    ]


def test_native_types(tmp_path):
    s = prisma(
        tmp_path,
        """
        model N {
          a String   @id @db.VarChar(255)
          b String   @db.Uuid
          c DateTime @db.Timestamptz(6)
          d String   @db.Text
          e Int      @db.Integer
          f Int      @db.SmallInt
          g String   @db.Char(2)
          h DateTime @db.Date
          i Decimal  @db.Decimal(10, 2)
          j Float    @db.DoublePrecision
          k Float    @db.Real
          l Json     @db.JsonB
          m Json     @db.Json
          n String   @db.Inet
          o String   @db.Citext
          p DateTime @db.Timestamp
          q String   @db.Char
          r DateTime @db.Time(3)
          u String[] @db.VarChar(10)
          v Bytes    @db.ByteA
          w Unsupported("geometry(Point, 4326)")?
        }
        """,
    )
    assert [c.type for c in s.table("N").columns] == [
        "character varying(255)", "uuid", "timestamp(6) with time zone", "text", "integer", "smallint",
        "character(2)", "date", "numeric(10,2)", "double precision", "real", "jsonb", "json", "inet", "citext",
        "timestamp without time zone", "character(1)", "time(3) without time zone", "character varying(10)[]",
        "bytea", "geometry(point,4326)",
    ]  # fmt: skip


def test_map_names_tables_and_columns(tmp_path):
    s = prisma(
        tmp_path,
        """
        model UserAccount {
          id        Int    @id @map("user_id")
          firstName String @map(name: "first_name")
          @@map("user_accounts")
        }
        """,
    )
    t = s.table("user_accounts")
    assert [c.name for c in t.columns] == ["user_id", "first_name"]
    assert t.primary_key == ["user_id"]
    assert t.indexes == [Index(name="user_accounts_pkey", columns=["user_id"], unique=True, primary=True)]
    assert t.constraints == [Constraint(name="user_accounts_pkey", kind="primary_key", columns=["user_id"])]


def test_enums_with_map_and_enum_columns(tmp_path):
    s = prisma(
        tmp_path,
        """
        enum Role {
          USER
          ADMIN @map("admin")
        }
        enum PostStatus {
          draft
          live
          @@map("post_status")
        }
        model Member {
          id     Int          @id
          role   Role         @default(ADMIN)
          roles  Role[]       @default([USER, ADMIN])
          status PostStatus?  @default(draft)
        }
        """,
    )
    assert s.enums == [EnumType(name="Role", values=["USER", "admin"]), EnumType(name="post_status", values=["draft", "live"])]
    t = s.table("Member")
    assert t.column("role") == Column(name="role", type='"Role"', nullable=False, default="'admin'")
    assert t.column("roles") == Column(name="roles", type='"Role"[]', default="ARRAY[CAST('USER' AS \"Role\"), CAST('admin' AS \"Role\")]")
    assert t.column("status") == Column(name="status", type="post_status", default="'draft'")


def test_defaults(tmp_path):
    s = prisma(
        tmp_path,
        """
        model Post {
          id       Int      @id @default(autoincrement())
          big      BigInt   @default(autoincrement())
          uid      String   @default(uuid())
          cid      String   @default(cuid())
          created  DateTime @default(now())
          updated  DateTime @updatedAt
          touched  DateTime @default(now()) @updatedAt
          title    String   @default("it's")
          empty    String   @default("")
          n        Int      @default(-1)
          x        Float    @default(1.5)
          flag     Boolean  @default(true)
          meta     Json     @default("{}")
          gen      String   @default(dbgenerated("gen_random_uuid()")) @db.Uuid
          opaque   String   @default(dbgenerated())
          tags     String[] @default([])
          nums     Int[]    @default([1, 2])
        }
        """,
    )
    assert {c.name: c.default for c in s.table("Post").columns} == {
        "id": "nextval('\"Post_id_seq\"'::regclass)",
        "big": "nextval('\"Post_big_seq\"'::regclass)",
        "uid": None,  # filled in by Prisma Client
        "cid": None,
        "created": "CURRENT_TIMESTAMP",
        "updated": None,
        "touched": "CURRENT_TIMESTAMP",
        "title": "'it''s'",
        "empty": "''",
        "n": "-1",
        "x": "1.5",
        "flag": "TRUE",
        "meta": "'{}'",
        "gen": "gen_random_uuid()",
        "opaque": None,
        "tags": "CAST(ARRAY[] AS text[])",
        "nums": "ARRAY[1, 2]",
    }
    # Scalar lists are nullable in the database, whatever the Prisma arity.
    assert s.table("Post").column("tags").nullable is True
    assert s.table("Post").column("big").type == "bigint"


def test_autoincrement_sequence_name_is_truncated_like_postgres(tmp_path):
    long_table, long_col = "t" * 40, "c" * 40
    s = prisma(tmp_path, f"model {long_table} {{\n  {long_col} Int @id @default(autoincrement())\n}}\n")
    seq = "t" * 29 + "_" + "c" * 29 + "_seq"
    assert s.table(long_table).columns[0].default == f"nextval('{seq}'::regclass)"
    # Prisma's own names cut the table+columns prefix, not each part.
    assert s.table(long_table).primary_key == [long_col]
    assert s.table(long_table).indexes[0].name == "t" * 40 + "_pkey"


def test_primary_keys_unique_and_indexes_named_like_prisma(tmp_path):
    s = prisma(
        tmp_path,
        """
        model Membership {
          orgId   Int    @map("org_id")
          userId  Int    @map("user_id")
          email   String @unique
          code    String @unique(map: "membership_code_uq")
          slug    String
          kind    String
          at      DateTime

          @@id([orgId, userId])
          @@unique([orgId, slug], name: "orgSlug")
          @@unique([orgId, kind], map: "kind_per_org")
          @@index([kind, at(sort: Desc)])
          @@index([slug], map: "by_slug", type: Hash)
          @@index([at], name: "legacy_at_idx")
          @@map("memberships")
        }
        model Keyed {
          key String
          @@id([key], map: "keyed_pk")
        }
        """,
    )
    t = s.table("memberships")
    assert t.primary_key == ["org_id", "user_id"]
    assert [(c.name, c.nullable) for c in t.columns[:2]] == [("org_id", False), ("user_id", False)]
    assert t.indexes == [
        Index(name="memberships_pkey", columns=["org_id", "user_id"], unique=True, primary=True),
        Index(name="memberships_email_key", columns=["email"], unique=True),
        Index(name="membership_code_uq", columns=["code"], unique=True),
        # `name:` on @@unique is only the Prisma Client name: the database name is the default
        Index(name="memberships_org_id_slug_key", columns=["org_id", "slug"], unique=True),
        Index(name="kind_per_org", columns=["org_id", "kind"], unique=True),
        Index(name="memberships_kind_at_idx", columns=["kind", "at"], orders=["", "DESC"]),  # at(sort: Desc)
        Index(name="by_slug", columns=["slug"], method="hash"),
        # ... but on @@index it is the (pre-3.0) database name
        Index(name="legacy_at_idx", columns=["at"]),
    ]
    # Prisma Migrate creates unique indexes, not unique constraints.
    assert [c.kind for c in t.constraints] == ["primary_key"]
    assert s.table("Keyed").indexes[0].name == "keyed_pk"


def test_relations_make_foreign_keys(tmp_path):
    s = prisma(
        tmp_path,
        """
        model User {
          id      Int     @id @map("user_id")
          posts   Post[]
          manager User?   @relation("boss", fields: [managerId], references: [id])
          reports User[]  @relation("boss")
          managerId Int?  @map("manager_id")
          @@map("users")
        }
        model Post {
          id       Int    @id
          authorId Int    @map("author_id")
          editorId Int?
          author   User   @relation(fields: [authorId], references: [id], onDelete: Cascade)
          editor   User?  @relation("edits", fields: [editorId], references: [id], map: "post_editor")
          tenant   String
          num      Int
          parent   Doc    @relation(fields: [tenant, num], references: [tenant, num], onDelete: NoAction)
        }
        model Doc {
          tenant String
          num    Int
          posts  Post[]
          @@id([tenant, num])
        }
        """,
    )
    users, post = s.table("users"), s.table("Post")
    # relation fields are not columns
    assert [c.name for c in users.columns] == ["user_id", "manager_id"]
    assert [c.name for c in post.columns] == ["id", "author_id", "editorId", "tenant", "num"]
    assert fk(users, "users_manager_id_fkey") == Constraint(
        name="users_manager_id_fkey", kind="foreign_key", columns=["manager_id"], ref_table="users",
        ref_columns=["user_id"], on_delete="SET NULL",  # Prisma's default for an optional relation
        on_update="CASCADE",  # Prisma's default for any relation
    )  # fmt: skip
    assert fk(post, "Post_author_id_fkey") == Constraint(
        name="Post_author_id_fkey", kind="foreign_key", columns=["author_id"], ref_table="users",
        ref_columns=["user_id"], on_delete="CASCADE", on_update="CASCADE",
    )  # fmt: skip
    assert fk(post, "post_editor").on_delete == "SET NULL"
    parent = fk(post, "Post_tenant_num_fkey")
    assert (parent.columns, parent.ref_table, parent.ref_columns, parent.on_delete) == (
        ["tenant", "num"], "Doc", ["tenant", "num"], None  # NO ACTION, as the replay reader keeps it
    )  # fmt: skip


def test_required_relation_defaults_to_restrict_and_relation_mode_prisma_has_no_foreign_keys(tmp_path):
    body = """
        model A {
          id Int @id
          bs B[]
        }
        model B {
          id  Int @id
          aId Int
          a   A   @relation(fields: [aId], references: [id])
        }
    """
    assert fk(prisma(tmp_path, body).table("B"), "B_aId_fkey").on_delete == "RESTRICT"
    no_fks = 'datasource db {\n  provider = "postgresql"\n  relationMode = "prisma"\n}\n'
    assert prisma(tmp_path, body, no_fks).table("B").constraints == [
        Constraint(name="B_pkey", kind="primary_key", columns=["id"])
    ]


def test_multi_schema_qualifies_table_and_enum_keys(tmp_path):
    s = prisma(
        tmp_path,
        """
        enum Plan {
          free
          paid
          @@schema("billing")
        }
        model Account {
          id   Int  @id
          plan Plan @default(free)
          @@schema("billing")
          @@map("accounts")
        }
        model User {
          id        Int     @id
          accountId Int
          account   Account @relation(fields: [accountId], references: [id])
          @@schema("public")
        }
        """,
        'datasource db {\n  provider = "postgresql"\n  schemas = ["public", "billing"]\n}\n',
    )
    assert [t.name for t in s.tables] == ["billing.accounts", "User"]
    assert s.enums == [EnumType(name="billing.Plan", values=["free", "paid"])]
    assert s.table("billing.accounts").column("plan").type == 'billing."Plan"'
    assert s.table("billing.accounts").indexes[0].name == "accounts_pkey"
    assert fk(s.table("User"), "User_accountId_fkey").ref_table == "billing.accounts"


def test_views_and_composite_types(tmp_path):
    s = prisma(
        tmp_path,
        """
        model User {
          id Int @id
        }
        view UserInfo {
          id   Int    @unique
          name String
          @@map("user_info")
        }
        type Address {
          street String
        }
        """,
    )
    assert [t.name for t in s.tables] == ["User"]
    assert s.views == [View(name="user_info")]


def test_prisma_matches_replay_of_the_sql_prisma_migrate_writes(tmp_path):
    s = prisma(
        tmp_path,
        """
        enum Role {
          USER
          ADMIN
        }
        model User {
          id        Int      @id @default(autoincrement())
          email     String   @unique @db.VarChar(255)
          roles     Role[]   @default([USER])
          createdAt DateTime @default(now())
          posts     Post[]
        }
        model Post {
          id       String  @id @default(cuid())
          authorId Int?
          score    Decimal @default(0)
          author   User?   @relation(fields: [authorId], references: [id])
          @@index([authorId])
        }
        """,
    )
    replayed = replay_sql(
        """
        CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
        CREATE TABLE "User" (
            "id" SERIAL NOT NULL,
            "email" VARCHAR(255) NOT NULL,
            "roles" "Role"[] DEFAULT ARRAY['USER']::"Role"[],
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            CONSTRAINT "User_pkey" PRIMARY KEY ("id")
        );
        CREATE TABLE "Post" (
            "id" TEXT NOT NULL,
            "authorId" INTEGER,
            "score" DECIMAL(65,30) NOT NULL DEFAULT 0,
            CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
        );
        CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
        CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");
        ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId")
            REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
        """
    )
    assert s == replayed


# --------------------------------------------------------------------------
# Prisma: finding the files
# --------------------------------------------------------------------------


def test_multi_file_folder_and_main_file(tmp_path):
    folder = tmp_path / "prisma"
    (folder / "models").mkdir(parents=True)
    (folder / "schema.prisma").write_text(DS + 'generator client {\n  provider = "prisma-client-js"\n}\n')
    (folder / "models" / "user.prisma").write_text("model User {\n  id Int @id\n  posts Post[]\n}\n")
    (folder / "models" / "post.prisma").write_text(
        "model Post {\n  id Int @id\n  userId Int\n  user User @relation(fields: [userId], references: [id])\n}\n"
    )
    by_folder = read_prisma(folder)
    assert sorted(t.name for t in by_folder.tables) == ["Post", "User"]
    assert fk(by_folder.table("Post"), "Post_userId_fkey").ref_table == "User"
    assert read_prisma(folder / "schema.prisma") == by_folder
    # a second schema with a datasource of its own is not part of this one
    (folder / "other").mkdir()
    (folder / "other" / "schema.prisma").write_text(DS + "model Other {\n  id Int @id\n}\n")
    assert read_prisma(folder / "schema.prisma") == by_folder
    # a complete single-file schema does not pick up stray .prisma files below it
    single = tmp_path / "single"
    (single / "examples").mkdir(parents=True)
    (single / "schema.prisma").write_text(DS + "model A {\n  id Int @id\n}\n")
    (single / "examples" / "b.prisma").write_text("model B {\n  id Int @id\n}\n")
    assert [t.name for t in read_prisma(single / "schema.prisma").tables] == ["A"]


def test_read_prisma_project_locations(tmp_path):
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "main.prisma").write_text(DS + "model A {\n  id Int @id\n}\n")
    (tmp_path / "package.json").write_text(json.dumps({"prisma": {"schema": "db/main.prisma"}}))
    assert [t.name for t in read_prisma_project(tmp_path).tables] == ["A"]
    other = tmp_path / "p2"
    (other / "prisma" / "schema").mkdir(parents=True)
    (other / "prisma" / "schema" / "a.prisma").write_text(DS + "model B {\n  id Int @id\n}\n")
    assert [t.name for t in read_prisma_project(other).tables] == ["B"]
    with pytest.raises(FluxInputError, match="no Prisma schema found"):
        read_prisma_project(tmp_path / "nowhere")


# --------------------------------------------------------------------------
# Drizzle snapshots
# --------------------------------------------------------------------------


def col(name, type_, **kw):
    return {"name": name, "type": type_, "primaryKey": kw.pop("pk", False), "notNull": kw.pop("nn", False), **kw}


def snapshot(tables, enums=None, views=None, version="7"):
    return {"id": "x", "prevId": "y", "version": version, "dialect": "postgresql", "tables": tables,
            "enums": enums or {}, "schemas": {}, "sequences": {}, "views": views or {}, "_meta": {}}  # fmt: skip


def table(name, columns, schema="", **parts):
    base = {"indexes": {}, "foreignKeys": {}, "compositePrimaryKeys": {}, "uniqueConstraints": {}, "checkConstraints": {}}
    return {"name": name, "schema": schema, "columns": {c["name"]: c for c in columns}, **base, **parts}


def test_drizzle_columns_types_and_defaults():
    s = schema_from_snapshot(
        snapshot(
            {
                "public.users": table(
                    "users",
                    [
                        col("id", "serial", pk=True, nn=True),
                        col("email", "varchar(256)", nn=True, isUnique=True, uniqueName="users_email_unique"),
                        col("created", "timestamp with time zone", nn=True, default="now()"),
                        col("at3", "timestamp (3)"),
                        col("tags", "text[]", default="ARRAY[]::text[]"),
                        col("active", "boolean", default=False),
                        col("n", "integer", default=3),
                        col("mood", "mood", typeSchema="public", default="'ok'"),
                        col("moods", "mood[]", typeSchema="public"),
                        col("plan", "plan", typeSchema="billing"),
                        col("seq", "bigint", nn=True, identity={"type": "always", "name": "users_seq_seq"}),
                        col("meta", "jsonb", default="'{}'::jsonb"),
                        col("price", "numeric(10, 2)"),
                        col("gross", "numeric(10, 2)", generated={"as": "(\"price\" * 2)", "type": "stored"}),
                    ],
                )
            },
            enums={
                "public.mood": {"name": "mood", "schema": "public", "values": ["sad", "ok"]},
                "billing.plan": {"name": "plan", "schema": "billing", "values": ["free"]},
            },
        )
    )
    assert s.enums == [EnumType(name="mood", values=["sad", "ok"]), EnumType(name="billing.plan", values=["free"])]
    t = s.table("users")
    assert [(c.name, c.type, c.nullable, c.default) for c in t.columns] == [
        ("id", "integer", False, "nextval('users_id_seq'::regclass)"),
        ("email", "character varying(256)", False, None),
        ("created", "timestamp with time zone", False, "now()"),
        ("at3", "timestamp(3) without time zone", True, None),
        ("tags", "text[]", True, "CAST(ARRAY[] AS text[])"),
        ("active", "boolean", True, "FALSE"),
        ("n", "integer", True, "3"),
        ("mood", "mood", True, "'ok'"),
        ("moods", "mood[]", True, None),
        ("plan", "billing.plan", True, None),
        ("seq", "bigint", False, None),
        ("meta", "jsonb", True, "'{}'"),
        ("price", "numeric(10,2)", True, None),
        ("gross", "numeric(10,2)", True, None),
    ]
    assert t.column("gross").generated == "price * 2" and t.column("price").generated is None
    assert t.primary_key == ["id"]
    assert t.indexes == [
        Index(name="users_pkey", columns=["id"], unique=True, primary=True),
        Index(name="users_email_unique", columns=["email"], unique=True),
    ]


def test_drizzle_keys_indexes_foreign_keys_checks_and_views():
    long_fk = "posts_author_id_users_id_fk_" + "x" * 50
    s = schema_from_snapshot(
        snapshot(
            {
                "app.posts": table(
                    "posts",
                    [col("tenant", "text", nn=True), col("id", "integer", nn=True), col("author_id", "integer"),
                     col("title", "text"), col("score", "integer")],  # fmt: skip
                    schema="app",
                    compositePrimaryKeys={"posts_tenant_id_pk": {"name": "posts_tenant_id_pk", "columns": ["tenant", "id"]}},
                    uniqueConstraints={"posts_title_unique": {"name": "posts_title_unique", "nullsNotDistinct": False, "columns": ["title"]}},
                    indexes={
                        "posts_lower_title_idx": {
                            "name": "posts_lower_title_idx",
                            "columns": [{"expression": "lower(title)", "isExpression": True, "asc": True, "nulls": "last"},
                                        {"expression": "score", "isExpression": False, "asc": False, "nulls": "last"}],
                            "isUnique": True, "method": "btree", "where": "score > 0", "concurrently": False, "with": {},
                        },
                        "posts_title_gin": {"name": "posts_title_gin", "columns": ["title"], "isUnique": False, "method": "gin"},
                    },
                    foreignKeys={
                        long_fk: {"name": long_fk, "tableFrom": "posts", "tableTo": "users", "schemaTo": "public",
                                  "columnsFrom": ["author_id"], "columnsTo": ["id"], "onDelete": "set null", "onUpdate": "no action"},
                    },
                    checkConstraints={"score_ok": {"name": "score_ok", "value": "score >= 0 AND author_id IS NOT NULL"}},
                )  # fmt: skip
            },
            views={"app.top": {"name": "top", "schema": "app", "definition": "select * from app.posts", "materialized": False}},
        )
    )
    t = s.table("app.posts")
    assert t.primary_key == ["tenant", "id"]
    assert t.indexes == [
        Index(name="posts_tenant_id_pk", columns=["tenant", "id"], unique=True, primary=True),
        Index(name="posts_title_unique", columns=["title"], unique=True),
        Index(name="posts_lower_title_idx", columns=["lower(title)", "score"], unique=True, where="score > 0",
              orders=["", "DESC NULLS LAST"]),  # the snapshot's asc: false, nulls: last
        Index(name="posts_title_gin", columns=["title"], method="gin"),
    ]
    assert t.constraints[-2] == Constraint(
        name=long_fk[:63], kind="foreign_key", columns=["author_id"], ref_table="users", ref_columns=["id"], on_delete="SET NULL"
    )  # PostgreSQL keeps 63 bytes of the name
    assert t.constraints[-1] == Constraint(
        name="score_ok", kind="check", columns=["author_id", "score"], expression="score >= 0 AND author_id IS NOT NULL"
    )
    assert s.views == [View(name="app.top", definition="SELECT * FROM app.posts")]


def test_drizzle_version_5_shapes():
    s = schema_from_snapshot(
        {
            "version": "5", "dialect": "pg",
            "tables": {"t": table("t", [col("id", "uuid", pk=True, nn=True, default="gen_random_uuid()"), col("k", "kind")])},
            "enums": {"kind": {"name": "kind", "values": {"a": "a", "b": "b"}}},
        }  # fmt: skip
    )
    assert s.enums == [EnumType(name="kind", values=["a", "b"])]
    assert s.table("t").column("id") == Column(name="id", type="uuid", nullable=False, default="gen_random_uuid()")
    assert s.table("t").column("k").type == "kind"


def test_drizzle_picks_the_latest_snapshot(tmp_path):
    meta = tmp_path / "drizzle" / "meta"
    meta.mkdir(parents=True)
    for n, name in ((1, "old"), (2, "new"), (10, "newest")):
        (meta / f"{n:04d}_snapshot.json").write_text(json.dumps(snapshot({f"public.{name}": table(name, [col("id", "integer")])})))
    assert latest_snapshot(tmp_path / "drizzle").name == "0010_snapshot.json"
    assert [t.name for t in read_drizzle_snapshot(tmp_path / "drizzle").tables] == ["newest"]
    assert [t.name for t in read_drizzle_snapshot(meta / "0001_snapshot.json").tables] == ["old"]
    # the journal's last entry wins when its snapshot exists
    (meta / "_journal.json").write_text(json.dumps({"entries": [{"idx": 2, "tag": "0002_new"}]}))
    assert [t.name for t in read_drizzle_snapshot(tmp_path / "drizzle").tables] == ["new"]
    with pytest.raises(FluxInputError, match="does not exist"):
        read_drizzle_snapshot(tmp_path / "missing")
    (meta / "_journal.json").unlink()
    (meta / "0011_snapshot.json").write_text(json.dumps({"dialect": "mysql", "tables": {}}))
    with pytest.raises(FluxInputError, match="'mysql' is not PostgreSQL"):
        read_drizzle_snapshot(tmp_path / "drizzle")


# --------------------------------------------------------------------------
# Real projects
# --------------------------------------------------------------------------


def test_real_prisma_documenso():
    root = need("prisma-documenso")
    s = read_prisma(root / "schema.prisma")
    assert read_prisma_project(root) == s
    assert (len(s.tables), len(s.enums), len(s.views)) == (51, 30, 0)
    user = s.table("User")
    assert user.columns[:3] == [
        Column(name="id", type="integer", nullable=False, default="nextval('\"User_id_seq\"'::regclass)"),
        Column(name="name", type="text"),
        Column(name="email", type="text", nullable=False),
    ]
    assert user.column("roles") == Column(name="roles", type='"Role"[]', default="ARRAY[CAST('USER' AS \"Role\")]")
    assert user.column("identityProvider").default == "'DOCUMENSO'"
    assert user.column("updatedAt").default == "CURRENT_TIMESTAMP"
    assert [i.name for i in user.indexes] == ["User_pkey", "User_email_key", "User_email_idx"]
    assert fk(user, "User_avatarImageId_fkey").on_delete == "SET NULL"
    recipient = s.table("Recipient")
    assert recipient.column("email").type == "character varying(255)"
    assert recipient.column("name").default == "''"
    assert idx(recipient, "Recipient_email_trgm_idx") == Index(name="Recipient_email_trgm_idx", columns=["email"], method="gin",
                                                               opclasses=["gin_trgm_ops"])
    assert idx(recipient, "Recipient_email_envelopeId_idx").columns == ["email", "envelopeId"]
    assert s.table("Field").column("width") == Column(name="width", type="numeric(65,30)", nullable=False, default="-1")
    assert s.table("RateLimit").primary_key == ["key", "action", "bucket"]
    envelope = s.table("Envelope")
    assert fk(envelope, "Envelope_documentMetaId_fkey").on_delete == "RESTRICT"  # required relation, no onDelete
    assert fk(envelope, "Envelope_documentMetaId_fkey").ref_table == "DocumentMeta"


def test_real_prisma_umami_matches_its_full_migration_history():
    root = need("prisma-umami")
    s = read_prisma(root / "prisma" / "schema.prisma")
    assert read_prisma_project(root) == s
    assert (len(s.tables), len(s.enums)) == (17, 0)
    # relationMode = "prisma": relations live in the client, not in the database
    assert not [c for t in s.tables for c in t.constraints if c.kind == "foreign_key"]
    event = s.table("website_event")
    assert event.column("event_type") == Column(name="event_type", type="integer", nullable=False, default="1")
    assert event.column("lcp") == Column(name="lcp", type="numeric(10,1)")
    assert event.column("created_at") == Column(name="created_at", type="timestamp(6) with time zone", default="CURRENT_TIMESTAMP")
    assert event.column("url_path") == Column(name="url_path", type="character varying(500)", nullable=False)
    assert s.table("session").column("country").type == "character(2)"
    assert idx(s.table("session"), "session_website_id_created_at_city_idx").columns == ["website_id", "created_at", "city"]
    assert idx(s.table("team"), "team_access_code_key").unique
    assert s.table("user").primary_key == ["user_id"]

    # umami keeps every migration since 01_init, so the replayed history must give the same schema,
    # apart from two places where its hand-written migration 19 differs from schema.prisma.
    replayed = read_migrations_dir(root / "prisma" / "migrations")
    assert sorted(t.name for t in s.tables) == sorted(t.name for t in replayed.tables)
    for t in s.tables:
        r = replayed.table(t.name)
        assert sorted(t.columns, key=lambda c: c.name) == sorted(r.columns, key=lambda c: c.name), t.name
        mine = {(i.name, tuple(i.columns), i.unique, i.method) for i in t.indexes}
        theirs = {(i.name, tuple(i.columns), i.unique, i.method) for i in r.indexes}
        assert mine - theirs == ({("session_replay_visit_id_idx", ("visit_id",), False, "btree")} if t.name == "session_replay" else set())
        assert theirs - mine == set()


def test_real_prisma_rallly_multi_file():
    root = need("prisma-rallly")
    s = read_prisma(root / "prisma")
    assert read_prisma(root / "prisma" / "schema.prisma") == s
    assert read_prisma_project(root) == s
    assert (len(s.tables), len(s.enums)) == (32, 16)
    assert EnumType(name="poll_status", values=["open", "closed", "scheduled", "canceled"]) in s.enums
    creds = s.table("credentials")
    assert creds.column("scopes") == Column(name="scopes", type="text[]")
    assert [i.name for i in creds.indexes] == [
        "credentials_pkey",
        "credentials_user_id_provider_provider_account_id_key",
        "credential_expiry_idx",
    ]
    assert fk(creds, "credentials_user_id_fkey") == Constraint(
        name="credentials_user_id_fkey", kind="foreign_key", columns=["user_id"], ref_table="users", ref_columns=["id"],
        on_delete="CASCADE", on_update="CASCADE",  # Prisma's default onUpdate
    )
    options = s.table("options")
    assert options.column("start_time").type == "timestamp(0) without time zone"
    assert idx(options, "options_poll_id_idx").method == "hash"
    settings = s.table("instance_settings")
    assert settings.column("id") == Column(name="id", type="integer", nullable=False, default="1")
    assert settings.column("instance_id") == Column(name="instance_id", type="uuid", nullable=False, default="gen_random_uuid()")
    assert settings.column("footer_links").default == "'[]'"
    polls = s.table("polls")
    assert polls.column("status") == Column(name="status", type="poll_status", nullable=False, default="'open'")
    assert polls.column("closed_reason") == Column(name="closed_reason", type="poll_closed_reason")
    assert [i.name for i in polls.indexes][:2] == ["polls_pkey", "polls_id_key"]  # @id @unique makes both
    assert fk(polls, "polls_space_id_fkey").on_delete == "SET NULL"
    assert fk(s.table("sessions"), "sessions_impersonated_by_fkey").on_delete == "SET NULL"  # optional, no onDelete
    assert fk(s.table("sheet_slots"), "sheet_slots_event_type_id_fkey").on_delete == "RESTRICT"
    assert s.table("users").column("email").type == "citext"
    assert s.table("spaces").column("id").default is None  # uuid(): Prisma Client fills it in
    assert idx(s.table("poll_activities"), "poll_activities_poll_id_created_at_idx").columns == ["poll_id", "created_at"]
    # The four tables its (trimmed) migration history creates come out the same from both readers.
    replayed = read_migrations_dir(root / "prisma" / "migrations")
    for t in replayed.tables:
        assert s.table(t.name) == t, t.name


def test_real_drizzle_dokploy_snapshot():
    root = need("drizzle-dokploy") / "drizzle"
    s = read_drizzle_snapshot(root)
    assert (len(s.tables), len(s.enums), len(s.views)) == (67, 27, 0)
    app = s.table("application")
    assert app.column("applicationStatus") == Column(
        name="applicationStatus", type='"applicationStatus"', nullable=False, default="'idle'"
    )
    assert app.column("watchPaths") == Column(name="watchPaths", type="text[]")
    assert app.column("networkIds").default == "'{}'"
    assert app.column("stopGracePeriodSwarm").type == "bigint"
    assert idx(app, "application_appName_unique").unique
    domain = s.table("domain")
    assert domain.column("uniqueConfigKey") == Column(
        name="uniqueConfigKey", type="integer", nullable=False, default="nextval('\"domain_uniqueConfigKey_seq\"'::regclass)"
    )
    assert s.table("member").column("accesedProjects").default == "CAST(ARRAY[] AS text[])"
    assert s.table("account").column("is2FAEnabled") == Column(name="is2FAEnabled", type="boolean", nullable=False, default="FALSE")
    assert fk(s.table("account"), "account_user_id_user_id_fk") == Constraint(
        name="account_user_id_user_id_fk", kind="foreign_key", columns=["user_id"], ref_table="user", ref_columns=["id"], on_delete="CASCADE"
    )
    dns = s.table("dns_provider")
    assert idx(dns, "dns_provider_org_name_idx") == Index(
        name="dns_provider_org_name_idx", columns=["organizationId", "name"], unique=True
    )
    assert dns.column("providerType").type == '"DnsProviderType"'
    assert idx(s.table("audit_log"), "auditLog_createdAt_idx").columns == ["created_at"]
    assert ("organization_slug_unique", "unique") in [(c.name, c.kind) for c in s.table("organization").constraints]


def test_real_drizzle_snapshot_agrees_with_replayed_migrations():
    root = need("drizzle-dokploy") / "drizzle"
    snap, replayed = read_drizzle_snapshot(root), read_migrations_dir(root)
    assert sorted(t.name for t in snap.tables) == sorted(t.name for t in replayed.tables)
    differing = []
    for t in snap.tables:
        mine = {c.name: c.type for c in t.columns}
        theirs = {c.name: c.type for c in replayed.table(t.name).columns}
        if mine != theirs:
            differing.append(t.name)
            for name in sorted(set(mine) | set(theirs)):
                if mine.get(name) != theirs.get(name):
                    print(f"drizzle-dokploy {t.name}.{name}: snapshot {mine.get(name)!r}, migrations {theirs.get(name)!r}")
    # Known drift: migration 0066 keeps user."enableLogRotation", which the snapshot no longer has.
    assert differing == ["user"]
    for t in snap.tables:
        r = replayed.table(t.name)
        fks = lambda tb: {(c.name, tuple(c.columns), c.ref_table, c.on_delete) for c in tb.constraints if c.kind == "foreign_key"}  # noqa: E731
        assert fks(t) == fks(r), t.name


def test_prisma_datasource_extensions_by_their_database_names(tmp_path):
    path = tmp_path / "schema.prisma"
    path.write_text('datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n'
                    '  extensions = [citext, pg_trgm, uuidOssp(map: "uuid-ossp"), citext]\n}\n'
                    'model A {\n  id Int @id\n}\n')
    assert read_prisma(path).extensions == ["citext", "pg_trgm", "uuid-ossp"]
