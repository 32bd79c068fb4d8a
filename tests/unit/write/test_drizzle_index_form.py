"""An index added to a drizzle table with no third argument yet is written in the form the file's
other tables use: drizzle-orm before 0.36 takes only `(t) => ({ name: index(...) })` (ai-chatbot's
0.34: the array form Flux wrote failed tsc, TS2769), later ones take the array form too."""

from __future__ import annotations

from flux_agent.entry.actions import parse_operations
from flux_agent.write.tools._drizzle_schema_ts import TsSchema, ts_edit

HEAD = 'import { index, pgTable, text, uuid } from "drizzle-orm/pg-core";\n\n'
MESSAGE = 'export const message = pgTable("Message", {\n  id: uuid("id").primaryKey(),\n  chatId: uuid("chatId"),\n});\n'


def _added(text: str) -> str:
    ts = TsSchema(text)
    [op] = parse_operations([{"op": "add_index", "table": "Message", "columns": ["chatId"]}])
    ts_edit(ts, op, lambda o: "Message_chatId_idx")
    return ts.text


def test_the_object_form_where_the_file_uses_it():
    vote = ('export const vote = pgTable("Vote", {\n  chatId: uuid("chatId"),\n  messageId: uuid("messageId"),\n'
            '}, (table) => ({\n  pk: index("Vote_chat_idx").on(table.chatId),\n}));\n')
    out = _added(HEAD + MESSAGE + vote)
    assert '}, (t) => ({ MessageChatIdIdx: index("Message_chatId_idx").on(t.chatId) }));' in out


def test_the_array_form_otherwise():
    out = _added(HEAD + MESSAGE)
    assert '}, (t) => [index("Message_chatId_idx").on(t.chatId)]);' in out


def test_an_index_on_an_expression_is_left_to_the_user_with_the_form_to_write():
    """drizzle's `.on()` takes an expression only as sql`...`: said, not written half-right."""
    import pytest

    from flux_agent.write.tools._drizzle_schema_ts import Unsupported

    ts = TsSchema(HEAD + MESSAGE)
    [op] = parse_operations([{"op": "add_index", "table": "Message", "columns": ["lower(\"chatId\"::text)"]}])
    with pytest.raises(Unsupported, match=r"on an expression: add it with \.on\(sql`lower"):
        ts_edit(ts, op, lambda o: "Message_lower_idx")
    assert ts.text == HEAD + MESSAGE
