"""Changing what was said: edit the text of a message, delete one.

Apps above chat follow along through `chat.context`: `messages_deleting` inside the
deleting transaction, `user_messages_edited` once an edit has committed.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from chat import selectors
from chat.cache import chat_changed
from chat.context import messages_deleting, user_messages_edited
from chat.models import ChatMessage
from chat.prompts import estimate_tokens
from chat.services.messages import validate_text
from mybella.core.services import service
from mybella.users.models import User

EDITABLE_ROLES = (ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT)


@service
@transaction.atomic
def message_edit(*, user: User, message_id: int, text: str) -> ChatMessage:
    """Change the text of one of `user`'s messages or of a persona's reply to them.

    A reply's edit replaces its selected alternative, and an interrupted reply edited is
    finished. A reply still being written, a failed one and a note can't be edited. The
    same text again writes nothing; an edited user message has its memories extracted
    again (`user_messages_edited`, on commit).
    """
    message = selectors.message_get_for_update(user=user, pk=message_id)
    if message.role not in EDITABLE_ROLES or message.status not in (
        ChatMessage.Status.OK,
        ChatMessage.Status.STOPPED,
    ):
        raise ValidationError(
            {"detail": _("Only your messages and the persona's finished replies can be edited.")}
        )
    text = validate_text(text, field="content")
    if text == message.content and message.status == ChatMessage.Status.OK:
        return message
    message.content = text
    if message.alternatives:
        message.alternatives[message.selected] = text
    message.status, message.error = ChatMessage.Status.OK, ""
    message.token_estimate = estimate_tokens(text)
    message.save(
        update_fields=["content", "alternatives", "status", "error", "token_estimate", "updated_at"]
    )
    if message.role == ChatMessage.Role.USER:
        ids, persona = [message.pk], message.persona
        transaction.on_commit(
            lambda: user_messages_edited.send(
                sender=ChatMessage, user=user, persona=persona, message_ids=ids
            )
        )
    return message


@service
@transaction.atomic
def message_delete(*, user: User, message_id: int) -> None:
    """Delete one of `user`'s messages (a reply answering it stays, answering nothing).

    A reply still being written can't be deleted (its writer would go on and announce it
    done); one whose writing was abandoned can. Apps that keep something made from it hear
    of it first (`messages_deleting`), in the same transaction.
    """
    message = selectors.message_get_for_update(user=user, pk=message_id)
    if message.is_being_written:
        raise ValidationError(
            {"detail": _("This reply is still being written: stop it first, then delete it.")}
        )
    messages_deleting.send(
        sender=ChatMessage, user=user, persona=message.persona, message_ids=[message.pk]
    )
    message.delete()
    chat_changed(user_id=user.pk)
