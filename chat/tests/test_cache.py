"""When a chat write makes the writer's cached chat reads stale (`chat.cache`)."""

import pytest
from django.db import transaction

from chat.cache import chat_changed, chat_version
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from mybella.core import cache as core_cache
from mybella.core.cache import version

# Really committed: what counts is what happens at the commit.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("system_personas")]


@pytest.fixture
def bumps(monkeypatch) -> list[str]:
    """The versions bumped, in order."""
    bumped: list[str] = []
    real_bump = core_cache.bump

    def bump(name: str) -> None:
        bumped.append(name)
        real_bump(name)

    monkeypatch.setattr(core_cache, "bump", bump)
    return bumped


def test_a_write_makes_reads_stale_once_when_it_commits(user, other_user, bumps):
    conversation = ConversationFactory(user=user)
    before, others = version(chat_version(user.pk)), version(chat_version(other_user.pk))
    bumps.clear()
    with transaction.atomic():
        ChatMessageFactory(conversation=conversation)
        ChatMessageFactory(conversation=conversation)
        chat_changed(user_id=user.pk)
        # Until the commit no other request sees the rows: nothing to make stale yet.
        assert version(chat_version(user.pk)) == before
    assert bumps == [chat_version(user.pk)]
    assert version(chat_version(user.pk)) != before
    assert version(chat_version(other_user.pk)) == others


def test_a_rolled_back_write_changes_no_version(user, bumps):
    conversation = ConversationFactory(user=user)
    before = version(chat_version(user.pk))
    bumps.clear()
    with transaction.atomic():
        ChatMessageFactory(conversation=conversation)
        transaction.set_rollback(True)
    assert bumps == []
    assert version(chat_version(user.pk)) == before


def test_a_write_after_a_rolled_back_savepoint_still_makes_reads_stale(user, bumps):
    conversation = ConversationFactory(user=user)
    before = version(chat_version(user.pk))
    with transaction.atomic():
        with transaction.atomic():
            ChatMessageFactory(conversation=conversation)
            transaction.set_rollback(True)  # the savepoint's bump goes with it
        ChatMessageFactory(conversation=conversation)
    assert version(chat_version(user.pk)) != before
