"""Branches of a session: regenerate an answer, send a new version of a message, switch between them.

A session's messages form a tree (each follows its `parent_id`); the store's head is the last message
of the active branch, which a chat continues. Regenerating moves the head back to the last user
message, so the new answer becomes a sibling of the old one; a new version of a message moves it to
that message's parent, so the new message becomes its sibling.
"""

from __future__ import annotations

from ..errors import InvalidParams
from ..store import BackgroundStore, MessageRecord, SessionRecord
from ..store.records import active_branch
from .context import user_text
from .types import ChatInput, SessionView


async def start_turn(
    store: BackgroundStore, session_id: str, request: ChatInput, workspace: str
) -> tuple[list[MessageRecord], MessageRecord]:
    """The history a chat's new turn follows, and its user message (stored here unless it is one
    being answered again)."""
    history = await store.messages(session_id)
    if request.regenerate:
        index = next((i for i in range(len(history) - 1, -1, -1) if history[i].role == "user"), None)
        if index is None:
            raise InvalidParams("regenerate: this session has no message to answer again")
        user = history[index]
        store.set_head(session_id, user.id)
        return history[:index], user
    if request.edit_of is not None:
        index = next((i for i, m in enumerate(history) if m.id == request.edit_of), None)
        if index is None or history[index].role != "user":
            raise InvalidParams(
                f"editOf: {request.edit_of} is not a user message of this session's active branch"
            )
        store.set_head(session_id, history[index].parent_id)
        history = history[:index]
    user = MessageRecord(role="user", content=user_text(request, workspace))
    store.append_message(session_id, user)
    return history, user


async def view(store: BackgroundStore, record: SessionRecord) -> SessionView:
    """The session's active branch, with each message's versions."""
    head, messages = await store.tree(record.session_id)
    return SessionView(record.session_id, record.title, head, _branch(head, messages), siblings(messages))


async def switch(store: BackgroundStore, record: SessionRecord, message_id: int) -> SessionView:
    """Make the branch through `message_id` active, continuing with its most recent messages."""
    _, messages = await store.tree(record.session_id)
    if not any(m.id == message_id for m in messages):
        raise InvalidParams(f"messageId: there is no message {message_id} in session {record.session_id}")
    children: dict[int | None, list[int]] = {}
    for m in messages:
        assert m.id is not None
        children.setdefault(m.parent_id, []).append(m.id)
    leaf = message_id
    while children.get(leaf):
        leaf = max(children[leaf])
    store.set_head(record.session_id, leaf)
    return SessionView(record.session_id, record.title, leaf, _branch(leaf, messages), siblings(messages))


def siblings(messages: list[MessageRecord]) -> dict[int, list[int]]:
    """For each message, the ids of the messages that follow the same one (itself included), oldest first."""
    by_parent: dict[int | None, list[int]] = {}
    for m in messages:
        assert m.id is not None
        by_parent.setdefault(m.parent_id, []).append(m.id)
    return {m.id: by_parent[m.parent_id] for m in messages if m.id is not None}


def _branch(head: int | None, messages: list[MessageRecord]) -> list[MessageRecord]:
    return active_branch(head, messages)
