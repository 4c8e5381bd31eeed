"""Writes of accounts."""

from django.db import transaction

from mybella.users.models import User, UserSettings


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "") -> User:
    """Create an account with its settings row."""
    user = User.objects.create_user(username=username, email=email, password=password)
    UserSettings.objects.get_or_create(user=user)
    return user


def user_export(*, user: User) -> dict:
    """Return everything MyBella keeps about `user`, as plain JSON-ready data."""
    from chat.models import ChatMessage, Conversation
    from memory.models import ConversationMemory, MemoryEvent, MemorySettings, UserPreference
    from personas.models import PersonaProfile

    def rows(queryset, *fields: str) -> list[dict]:  # noqa: ANN001
        return [
            {
                key: (value.isoformat() if hasattr(value, "isoformat") else value)
                for key, value in row.items()
            }
            for row in queryset.values(*fields)
        ]

    settings_row = UserSettings.objects.filter(user=user).values("current_persona_id").first()
    return {
        "user": {
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": user.date_joined.isoformat(),
            "current_persona": (settings_row or {}).get("current_persona_id"),
        },
        "personas": rows(
            PersonaProfile.objects.filter(owner=user),
            "id",
            "name",
            "slug",
            "tagline",
            "bio",
            "traits",
            "communication_style",
            "communication_notes",
            "greeting",
            "example_dialogue",
            "system_prompt",
            "avatar",
            "extensions",
            "created_at",
            "updated_at",
        ),
        "conversations": rows(
            Conversation.objects.filter(user=user),
            "id",
            "persona_id",
            "title",
            "created_at",
            "updated_at",
        ),
        "messages": rows(
            ChatMessage.objects.filter(user=user).order_by("created_at", "id"),
            "id",
            "conversation_id",
            "persona_id",
            "role",
            "content",
            "status",
            "error",
            "provider",
            "model",
            "created_at",
        ),
        "memories": rows(
            ConversationMemory.objects.filter(user=user),
            "id",
            "persona_id",
            "content",
            "kind",
            "importance",
            "pinned",
            "created_at",
            "updated_at",
        ),
        "memory_history": rows(
            MemoryEvent.objects.filter(user=user),
            "memory_id",
            "persona_id",
            "action",
            "actor",
            "content_before",
            "content_after",
            "created_at",
        ),
        "preferences": rows(UserPreference.objects.filter(user=user), "persona_id", "key", "value"),
        "memory_settings": rows(MemorySettings.objects.filter(user=user), "persona_id", "remember"),
    }
