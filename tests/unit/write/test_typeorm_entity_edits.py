"""TypeORM entity files read and edited by tokens: the class a table maps to, its properties' column
decorators in the forms projects write them (no semicolons, one line, positional types, single
quotes), and each edit changing only what it must. tests/integration/write/test_orm_sync_typeorm.py
runs the real `typeorm migration:generate --check` on the results."""

from __future__ import annotations

import pytest

from flux_agent.plan.naming import index_name
from flux_agent.write.tools._typeorm_entity_file import EntityFile
from flux_agent.write.tools._typeorm_entity_edits import (add_column, add_index, change_type,
                                                         default_value, drop_column, drop_index, naming_for,
                                                         rename_column, rename_table, set_default, set_nullable)
from flux_agent.write.tools._typeorm_entity_ts import NotEditable, entity_classes, snake_case

ORDER = '''import { Entity, Column, PrimaryGeneratedColumn, ManyToOne, JoinColumn, Index } from "typeorm"

/* a { brace } in a comment */
@Entity({ name: "orders", schema: undefined })
@Index(["status", "userId"])
export class Order extends Base {
  @PrimaryGeneratedColumn()
  id!: number

  @Column({ name: "user_id", type: "integer" })
  userId!: number

  @ManyToOne(() => User, (u) => u.orders, { onDelete: "CASCADE" })
  @JoinColumn({ name: "user_id" })
  user!: User

  @Column("text", { default: "it's } here", nullable: true }) note!: string | null
  @Column() status!: string
  @Column("integer", { nullable: true })
  qty?: number

  get label(): string { return `${this.status} {` }

  total(rate: number): number {
    return this.qty ?? 0 * rate
  }
}
'''


def _ef(text: str = ORDER, snake: bool = False) -> EntityFile:
    return EntityFile(text, naming_for(snake))


def test_the_class_and_its_members_are_read_by_tokens():
    (cls,) = entity_classes(ORDER)
    assert (cls.name, cls.table) == ("Order", "orders")
    assert [m.name for m in cls.members] == ["id", "userId", "user", "note", "status", "qty", "label", "total"]
    assert [m.method for m in cls.members][-2:] == [True, True]
    assert [d.name for d in cls.decorators] == ["Entity", "Index"]


def test_a_table_is_named_as_typeorm_names_it():
    assert entity_classes("@Entity()\nexport class UserProfile { @Column() a: string; }\n")[0].table == "user_profile"
    assert entity_classes("@MultiORMEntity('employee')\nclass E {}\n")[0].table == "employee"
    assert entity_classes("@ViewEntity('v')\nclass V {}\n") == []
    assert [snake_case(n) for n in ("HTTPRequest", "User2Fa", "tags")] == ["http_request", "user2_fa", "tags"]


def test_a_rename_names_the_column_in_every_decorator_mapping_it():
    ef = _ef()
    rename_column(ef, "orders", "user_id", "customer_id")
    assert '@Column({ name: "customer_id", type: "integer" })' in ef.text
    assert '@JoinColumn({ name: "customer_id" })' in ef.text
    assert ef.text.replace("customer_id", "user_id") == ORDER


@pytest.mark.parametrize("column, before, after", [
    ("status", '@Column() status!: string', '@Column({ name: "state" }) status!: string'),
    ("note", '@Column("text", { default', '@Column("text", { name: "state", default'),
    ("id", '@PrimaryGeneratedColumn()\n', '@PrimaryGeneratedColumn({ name: "state" })\n'),
])
def test_a_rename_of_a_column_named_by_its_property_keeps_the_property(column, before, after):
    ef = _ef()
    rename_column(ef, "orders", column, "state")
    assert ef.text == ORDER.replace(before, after)


def test_nullable_set_and_removed_and_an_emptied_object_goes():
    ef = _ef()
    set_nullable(ef, "orders", "qty", False)
    assert '@Column("integer")\n  qty?: number' in ef.text
    set_nullable(ef, "orders", "note", False)
    assert '@Column("text", { default: "it\'s } here" }) note!: string\n' in ef.text  # `| null` gone with it
    set_nullable(ef, "orders", "status", True)
    assert "@Column({ nullable: true }) status!: string | null\n" in ef.text


@pytest.mark.parametrize("declared, nullable, after", [
    ("age!: number | null;", False, "age!: number;"),
    ("age!: null | number;", False, "age!: number;"),
    ("age!: number;", True, "age!: number | null;"),
    ("age: number | null = null;", False, "age: number | null = null;"),  # its initializer is null: kept
    ("meta!: Record<string, number | null>;", True, "meta!: Record<string, number | null> | null;"),
    ("meta!: Record<string, number | null> | null;", False, "meta!: Record<string, number | null>;"),
    ("age?: number;", True, "age?: number;"),  # optional: left to its author
    ("age!: number | string | null;", False, "age!: number | string;"),
])
def test_the_property_s_type_says_null_where_the_column_may_hold_it(declared, nullable, after):
    """TypeORM reads NULL as null: `number` on a nullable column promised what it may not give."""
    options = '"integer"' if nullable else '"integer", { nullable: true }'
    ef = EntityFile(f'@Entity("t")\nexport class T {{\n    @Column({options})\n    {declared}\n}}\n', naming_for(False))
    set_nullable(ef, "t", "age" if "age" in declared else "meta", nullable)
    assert f"    {after}\n" in ef.text


def test_defaults_as_typeorm_compares_them():
    q = _ef().quote
    assert [default_value(d, q) for d in ("'anon'", "0", "2.5", "true", "'x'::text")] == \
        ['"anon"', "0", "2.5", "true", '"x"']
    assert default_value("now()", q) == '() => "now()"'
    assert default_value("CURRENT_TIMESTAMP", q) == '() => "CURRENT_TIMESTAMP"'
    with pytest.raises(NotEditable, match="generated uuid"):
        default_value("gen_random_uuid()", q)
    with pytest.raises(NotEditable, match="as PostgreSQL prints it"):
        default_value("md5(random()::text)", q)
    ef = _ef()
    set_default(ef, "orders", "status", "'new'")
    set_default(ef, "orders", "note", None)
    assert '@Column({ default: "new" }) status' in ef.text and '@Column("text", { nullable: true }) note' in ef.text


def test_a_new_column_in_the_file_s_style():
    ef = _ef(ORDER.replace("it's", "its").replace('"', "'"))
    add_column(ef, "orders", "shipped_at", "timestamp with time zone", True, "now()")
    assert ("  qty?: number\n\n  @Column({ name: 'shipped_at', type: 'timestamp with time zone', nullable: true, "
            "default: () => 'now()' })\n  shippedAt!: Date | null\n") in ef.text  # no semicolons, as the file
    ef = _ef()
    add_column(ef, "orders", "code", "varchar(12)", False, None)
    assert '@Column({ type: "character varying", length: 12 })\n  code!: string\n' in ef.text
    with pytest.raises(NotEditable, match="the project's own"):
        add_column(_ef(), "orders", "mood", "mood_enum", True, None)
    bare = _ef('@Entity("t")\nexport class T {\n    @PrimaryColumn("int") id: number;\n}\n')
    add_column(bare, "t", "n", "numeric(10,2)", True, None)
    assert bare.text.startswith('import { Column } from "typeorm";\n')
    assert '    @Column({ type: "numeric", precision: 10, scale: 2, nullable: true })\n    n: string | null;\n}' \
        in bare.text


def test_a_dropped_column_takes_its_index_and_refuses_a_relation():
    ef = _ef()
    drop_column(ef, "orders", "status")
    assert "status" not in ef.text.replace("this.status", "") and '@Index(["status"' not in ef.text
    assert "@Column(\"integer\", { nullable: true })\n  qty?: number" in ef.text
    with pytest.raises(NotEditable, match="relation"):
        drop_column(_ef(), "orders", "user_id")


def test_a_type_change_where_the_decorator_gives_it():
    ef = _ef()
    change_type(ef, "orders", "qty", "bigint")
    change_type(ef, "orders", "status", "varchar(20)")
    assert '@Column("bigint", { nullable: true })\n  qty?' in ef.text
    assert '@Column({ type: "character varying", length: 20 }) status' in ef.text


def test_indexes_added_named_only_where_typeorm_would_not_and_dropped_by_either_name():
    ef = _ef()
    add_index(ef, "orders", ["status"], index_name("typeorm", "orders", ["status"]), False)
    add_index(ef, "orders", ["user_id", "note"], "orders_user_note_idx", True)
    assert ('@Index(["status", "userId"])\n@Index(["status"])\n@Index("orders_user_note_idx", ["userId", "note"], '
            '{ unique: true })\nexport class Order') in ef.text
    drop_index(ef, index_name("typeorm", "orders", ["status", "user_id"]))
    drop_index(ef, "orders_user_note_idx")
    assert '@Index(["status", "userId"])' not in ef.text and "orders_user_note_idx" not in ef.text
    with pytest.raises(NotEditable):
        drop_index(ef, "no_such_idx")


def test_snake_naming_maps_properties_to_snake_columns():
    ef = _ef('@Entity()\nexport class Person { @Column() firstName: string; }\n', snake=True)
    rename_column(ef, "person", "first_name", "given_name")
    assert '@Column({ name: "given_name" }) firstName' in ef.text
    with pytest.raises(NotEditable, match="no property"):
        rename_column(_ef('@Entity()\nexport class Person { @Column() firstName: string; }\n'), "person",
                      "first_name", "x")


def test_a_renamed_table_in_each_form_of_the_decorator():
    for before, after in (('@Entity("tags")', '@Entity("labels")'), ("@Entity()", '@Entity("labels")'),
                          ('@Entity({ name: "tags" })', '@Entity({ name: "labels" })'),
                          ("@Entity({ synchronize: false })", '@Entity({ name: "labels", synchronize: false })')):
        ef = _ef(f"{before}\nexport class tags {{ @Column() a: string; }}\n")
        rename_table(ef, "tags", "labels")
        assert ef.text.startswith(after + "\n"), ef.text


def test_an_option_added_to_an_object_written_one_a_line_keeps_its_layout():
    text = ('@Entity("t")\nexport class T {\n  @Column({\n    type: "text",\n    nullable: true,\n  })\n'
            '  note: string;\n  @Column({\n    type: "int"\n  })\n  n: number;\n}\n')
    ef = _ef(text)
    set_default(ef, "t", "note", "'x'")
    set_default(ef, "t", "n", "1")
    assert '  @Column({\n    type: "text",\n    nullable: true,\n    default: "x",\n  })\n' in ef.text
    assert '  @Column({\n    type: "int",\n    default: 1\n  })\n' in ef.text


def test_a_project_s_own_column_decorator_and_property_marks_are_followed():
    # ever-gauzy's entities: @MultiORMColumn, optional properties, validation decorators, tabs
    text = ("import { MultiORMColumn, MultiORMEntity } from '../core/decorators';\n\n"
            "@MultiORMEntity('employee', { mikroOrmRepository: () => Repo })\n"
            "export class Employee extends Base {\n\t@IsOptional()\n\t@MaxLength(200)\n"
            "\t@MultiORMColumn({ length: 200, nullable: true })\n\tshort_description?: string;\n\n"
            "\t@VirtualMultiOrmColumn()\n\tfullName?: string;\n}\n")
    ef = _ef(text)
    add_column(ef, "employee", "nick_name", "text", True, None)
    assert ef.text.endswith("\tfullName?: string;\n\n\t@MultiORMColumn({ name: 'nick_name', type: 'text', "
                            "nullable: true })\n\tnickName?: string | null;\n}\n")
    assert "from 'typeorm'" not in ef.text  # the wrapper is imported already
    with pytest.raises(NotEditable, match="no property"):
        rename_column(_ef(text), "employee", "fullName", "x")  # a virtual column is no column
    ef = _ef(text)
    rename_column(ef, "employee", "short_description", "summary")
    assert "@MultiORMColumn({ name: 'summary', length: 200, nullable: true })" in ef.text


# What trying the edits on real projects' entities found (nestjs-boilerplate, vendure, typeorm's own
# tests, awesome-nest-boilerplate, w3tecch's boilerplate): each case as it was met.

def test_a_generated_id_keeps_its_strategy_when_its_type_changes():
    ef = _ef('@Entity("t")\nexport class T {\n  @PrimaryGeneratedColumn("increment")\n  id: number;\n}\n')
    change_type(ef, "t", "id", "bigint")
    assert '@PrimaryGeneratedColumn("increment", { type: "bigint" })' in ef.text


def test_a_column_added_to_an_empty_class_on_one_line():
    ef = _ef('@Entity("t")\nexport class T extends Base {}\n')
    add_column(ef, "t", "n", "integer", True, None)
    assert ef.text.endswith('export class T extends Base {\n    @Column({ type: "integer", nullable: true })\n'
                            '    n: number | null;\n}\n')


def test_a_column_whose_name_makes_no_property_is_left_with_a_note():
    for column in ("2fa_code", "order-id", "constructor"):
        with pytest.raises(NotEditable, match="no property name"):
            add_column(_ef(), "orders", column, "text", True, None)


def test_a_table_named_by_a_constant_is_not_guessed():
    (cls,) = entity_classes("@Entity(TABLE)\nexport class Person { @Column() a: string; }\n")
    assert cls.table is None
    assert entity_classes("@Entity({ name: T.people })\nexport class Person {}\n")[0].table is None
    assert entity_classes("@ChildEntity('photo')\nexport class Photo extends Content {}\n") == []


def test_an_embedded_object_is_no_column():
    text = '@Entity("car")\nexport class Car {\n  @Column(() => Engine, { prefix: "engine" })\n  engine: Engine;\n}\n'
    with pytest.raises(NotEditable, match="no property"):
        set_nullable(_ef(text), "car", "engine", True)


def test_a_type_change_takes_the_old_type_s_options_with_it():
    text = ('@Entity("u")\nexport class U {\n  @Column({ type: "enum", enum: Role, enumName: "role_enum" })\n'
            '  role: Role;\n  @Column("simple-array")\n  tags: string[];\n}\n')
    ef = _ef(text)
    change_type(ef, "u", "role", "text")
    assert '@Column({ type: "text" })\n  role: Role;' in ef.text
    with pytest.raises(NotEditable, match="simple-array"):
        change_type(_ef(text), "u", "tags", "varchar(100)")


def test_the_default_of_typeorm_s_dated_columns_is_its_own():
    text = '@Entity("u")\nexport class U {\n  @CreateDateColumn({ name: "created_at" })\n  createdAt: Date;\n}\n'
    with pytest.raises(NotEditable, match="CreateDateColumn"):
        set_default(_ef(text), "u", "created_at", None)


def test_indexes_on_relations_are_found_and_made():
    text = ('@Entity("session")\nexport class Session {\n  @ManyToOne(() => User)\n  @Index()\n  user: User;\n'
            '  @ManyToOne(() => Device)\n  @JoinColumn({ name: "device_id" })\n  device: Device;\n}\n')
    ef = _ef(text)
    drop_index(ef, index_name("typeorm", "session", ["userId"]))
    assert "@Index()" not in ef.text
    add_index(ef, "session", ["device_id"], "session_device_idx", False)
    assert '@Index("session_device_idx", ["device"])\nexport class Session' in ef.text


def test_a_dropped_column_takes_an_arrow_index_and_its_comments():
    text = ('@Entity("a")\n@Index((a: A) => [a.nick, a.bio])\nexport class A {\n  @Column() id: number;\n\n'
            '  /** the nickname */\n  // shown in the header\n  @Column() nick: string;\n\n  @Column() bio: string;\n}\n')
    ef = _ef(text)
    drop_column(ef, "a", "nick")
    assert ef.text == '@Entity("a")\nexport class A {\n  @Column() id: number;\n\n  @Column() bio: string;\n}\n'


def test_removed_options_leave_no_empty_lines_or_double_spaces():
    text = ('@Entity("p")\nexport class P {\n  @Column({\n    type: "varchar",\n    nullable: true,\n  })\n'
            '  a: string;\n  @Column({ type: "varchar", nullable: true, }) b: string;\n}\n')
    ef = _ef(text)
    set_nullable(ef, "p", "a", False)
    set_nullable(ef, "p", "b", False)
    assert '  @Column({\n    type: "varchar",\n  })\n  a: string;' in ef.text
    assert '@Column({ type: "varchar", }) b' in ef.text


def test_an_import_joins_a_list_written_one_a_line():
    text = ('import {\n  Entity,\n  Column,\n} from "typeorm";\n\n@Entity("u")\nexport class U {\n'
            '  @Column() email: string;\n}\n')
    ef = _ef(text)
    add_index(ef, "u", ["email"], "u_email_idx", False)
    assert ef.text.startswith('import {\n  Entity,\n  Column,\n  Index,\n} from "typeorm";\n')
    ef = _ef('import { Column } from "./decorators";\n@Entity("u")\nexport class U {\n  @Column() a: string;\n}\n')
    add_column(ef, "u", "b", "text", True, None)
    assert "typeorm" not in ef.text  # Column is imported already, from the project's own module


def test_a_check_is_declared_on_the_class_by_its_database_name():
    from flux_agent.model.operations import AddCheck
    from flux_agent.write.tools._typeorm_entity_edits import apply

    ef = _ef()
    apply(ef, AddCheck(table="orders", expression="qty > 0"))
    assert '@Index(["status", "userId"])\n@Check("orders_qty_check", "qty > 0")\nexport class Order' in ef.text
    assert ef.text.startswith('import { Entity, Column, PrimaryGeneratedColumn, ManyToOne, JoinColumn, Index, Check }')


def test_a_new_table_s_entity_goes_where_and_as_the_project_writes_them():
    from flux_agent.write.tools._typeorm_entity_new import home

    assert home("audit_log", ["src/entity/User.ts", "src/entity/Order.ts"]) == "src/entity/AuditLog.ts"
    nest = ["src/users/user.entity.ts", "src/orders/order.entity.ts", "src/session/session.entity.ts"]
    assert home("audit_log", nest) == "src/audit-log/audit-log.entity.ts"
    assert home("audit_log", ["src/db/a.entity.ts", "src/db/b.entity.ts"]) == "src/db/audit-log.entity.ts"
    # nestjs-boilerplate: src/<module>/infrastructure/persistence/relational/entities/<x>.entity.ts
    deep = [f"src/{m}/infrastructure/persistence/relational/entities/{m[:-1]}.entity.ts" for m in ("users", "files",
                                                                                                 "roles")]
    assert home("audit_log", deep) == "src/audit-log/infrastructure/persistence/relational/entities/audit-log.entity.ts"
    with pytest.raises(NotEditable, match="JavaScript"):
        home("audit_log", ["src/a.js", "src/b.js"])


def test_a_new_entity_in_the_style_of_the_project_s():
    from flux_agent.model.operations import CreateTable
    from flux_agent.write.tools._typeorm_entity_new import new_entity

    op = CreateTable(table="audit_log", columns=[
        {"name": "id", "type": "serial", "primary_key": True}, {"name": "event_kind", "type": "text", "nullable": False},
        {"name": "n", "type": "int", "default": "0"}])
    text = new_entity(op, _ef(ORDER.replace("it's", "its").replace('"', "'")))
    assert text == ("import { Entity, PrimaryGeneratedColumn, Column } from 'typeorm'\n\n@Entity({ name: 'audit_log' })\n"
                    "export class AuditLog {\n  @PrimaryGeneratedColumn()\n  id!: number\n\n"
                    "  @Column({ name: 'event_kind', type: 'text' })\n  eventKind!: string\n\n"
                    "  @Column({ type: 'integer', nullable: true, default: 0 })\n  n!: number | null\n}\n")
    (cls,) = entity_classes(text)
    assert cls.table == "audit_log" and [m.name for m in cls.members] == ["id", "eventKind", "n"]


def test_globs_as_typeorm_reads_them():
    from flux_agent.write.tools._typeorm_data_source import glob_matches

    assert glob_matches("/app/src/**/*.entity{.ts,.js}", "/app/src/audit-log/audit-log.entity.ts")
    assert glob_matches("/app/src/**/*.entity{.ts,.js}", "/app/src/a.entity.js")
    assert not glob_matches("/app/src/entity/*.ts", "/app/src/entity/sub/A.ts")
    assert glob_matches("/app/src/entity/*.ts", "/app/src/entity/AuditLog.ts")


def test_a_new_entity_is_registered_where_the_data_source_lists_classes(tmp_path):
    from flux_agent.write.tools._typeorm_data_source import register

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "data-source.ts").write_text(
        'import "reflect-metadata";\nimport { DataSource } from "typeorm";\nimport { User } from "./entity/User";\n\n'
        'export default new DataSource({\n  type: "postgres",\n  entities: [User],\n});\n')
    rel, text = register(tmp_path, "src/entity/AuditLog.ts", "AuditLog")
    assert rel == "src/data-source.ts"
    assert 'import { User } from "./entity/User";\nimport { AuditLog } from "./entity/AuditLog";\n' in text
    assert "entities: [User, AuditLog]," in text
    (tmp_path / "src" / "data-source.ts").write_text(
        'import { DataSource } from "typeorm";\nexport default new DataSource({ type: "postgres", entities: '
        '[path.join(__dirname, "**", "*.entity{.ts,.js}")] });\n')
    assert register(tmp_path, "src/audit-log/audit-log.entity.ts", "AuditLog") is None  # the glob takes it in
    with pytest.raises(NotEditable, match="no glob"):
        register(tmp_path, "lib/AuditLog.ts", "AuditLog")
    (tmp_path / "src" / "data-source.ts").unlink()
    with pytest.raises(NotEditable, match="no DataSource"):
        register(tmp_path, "src/entity/AuditLog.ts", "AuditLog")


def test_an_entity_edited_ahead_of_the_database_is_left_as_it_is():
    # `flux fix` of a migration the user generated from an entity they edited first: the entity holds
    # the change already (nestjs-boilerplate's `@Index() @Column({ nullable: false }) nickname`)
    text = ('@Entity("user")\nexport class User {\n  @Index()\n  @Column({ nullable: false })\n  nickname: string;\n'
            '  @Column({ name: "given_name" })\n  firstName: string;\n}\n')
    ef = _ef(text)
    add_column(ef, "user", "nickname", "text", False, None)
    add_index(ef, "user", ["nickname"], index_name("typeorm", "user", ["nickname"]), False)
    set_nullable(ef, "user", "nickname", False)
    rename_column(ef, "user", "first_name", "given_name")
    assert ef.text == text


def test_a_new_entity_takes_the_class_suffix_and_active_record_base_the_project_s_have():
    from flux_agent.model.operations import CreateTable
    from flux_agent.write.tools._typeorm_entity_new import class_name, new_entity

    sample = _ef('import { Entity, BaseEntity, Column } from "typeorm";\n@Entity()\n'
                 'export class UserEntity extends BaseEntity {\n  @Column() a: string;\n}\n')
    assert class_name("audit_log", sample) == "AuditLogEntity" and class_name("audit_log") == "AuditLog"
    text = new_entity(CreateTable(table="audit_log", columns=[{"name": "id", "type": "bigserial", "primary_key": True}]),
                      sample)
    assert 'import { Entity, PrimaryGeneratedColumn, BaseEntity } from "typeorm";' in text
    assert '@Entity("audit_log")\nexport class AuditLogEntity extends BaseEntity {' in text


@pytest.mark.parametrize("column, declared, new_type, after", [
    ('"integer", { nullable: true }', "qty!: number | null;", "bigint", "qty!: string | null;"),  # int8 comes as text
    ('"integer"', "qty!: number;", "numeric(12,2)", "qty!: string;"),
    ('"text"', "qty!: string;", "varchar(40)", "qty!: string;"),
    ('"text"', "qty!: Status;", "integer", "qty!: Status;"),  # its own type: left to its author
    ('"text"', "qty!: string;", "jsonb", "qty!: string;"),  # not a plain type TypeORM gives
    ('"integer", { transformer: toNumber }', "qty!: number;", "bigint", "qty!: number;"),  # it converts
])
def test_a_type_change_changes_the_plain_type_typeorm_gives(column, declared, new_type, after):
    ef = EntityFile(f'@Entity("t")\nexport class T {{\n    @Column({column})\n    {declared}\n}}\n', naming_for(False))
    change_type(ef, "t", "qty", new_type)
    assert f"    {after}\n" in ef.text


def test_a_column_whose_options_hold_an_arrow_is_a_column():
    """jellyseerr's User.email (a transformer) and Media.lastSeasonChange (`default: () => ...`): taken for
    embedded objects, they were never renamed, and migration:generate then proposed dropping the column."""
    text = ('@Entity()\nexport class Account {\n'
            "  @Column({ type: 'timestamp', default: () => 'CURRENT_TIMESTAMP' })\n  public seenAt: Date;\n\n"
            "  @Column({ unique: true, transformer: { from: (v: string) => v, to: (v: string) => v.toLowerCase() } })\n"
            '  public email: string;\n}\n')
    ef = _ef(text)
    rename_column(ef, "account", "seenAt", "lastSeenAt")
    rename_column(ef, "account", "email", "emailAddress")
    assert "@Column({ name: 'lastSeenAt', type: 'timestamp', default: () => 'CURRENT_TIMESTAMP' })\n" \
        "  public seenAt: Date;" in ef.text
    assert "@Column({ name: 'emailAddress', unique: true, transformer: " in ef.text


def test_every_keyword_before_a_method_s_name_is_read():
    """jellyseerr's `public static async deleteWatchlist(`: read as a property named `async`, it gave the
    new column the style of a member with no semicolon and no `public`."""
    text = ('@Entity()\nexport class Account {\n  @PrimaryGeneratedColumn()\n  public id: number;\n\n'
            '  public static async byId(id: number) {\n    return id;\n  }\n}\n')
    (cls,) = entity_classes(text)
    assert [(m.name, m.method) for m in cls.members] == [("id", False), ("byId", True)]
    ef = _ef(text)
    add_column(ef, "account", "nick", "text", True, None)
    assert '  @Column({ type: "text", nullable: true })\n  public nick: string | null;\n' in ef.text


def test_an_index_on_an_expression_is_not_written_as_columns():
    """@Index lists property names: lower(email) would be read as one, and the entity fail to load."""
    from flux_agent.entry.actions import parse_operations
    from flux_agent.write.tools._typeorm_entity_edits import apply

    ef = _ef()
    [op] = parse_operations([{"op": "add_index", "table": "orders", "columns": ["lower(status)"]}])
    with pytest.raises(NotEditable, match="an index on an expression"):
        apply(ef, op)
    assert ef.text == ORDER
