"""Writes of accounts."""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mybella.users.models import ApiToken, User, UserSettings

logger = logging.getLogger(__name__)


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "") -> User:
    """Create an account with its settings row."""
    user = User.objects.create_user(username=username, email=email, password=password)
    UserSettings.objects.get_or_create(user=user)
    return user


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete an account with everything it owns: personas, chats, memories, voices, speech."""
    from personas.models import PersonaProfile
    from voices.models import CustomVoice
    from voices.services import speech_clips_delete

    files = [
        (field.storage, field.name)
        for field in [
            *(p.avatar for p in PersonaProfile.objects.filter(owner=user).exclude(avatar="")),
            *(v.sample for v in CustomVoice.objects.filter(owner=user)),
        ]
    ]
    _delete_cloned_voices(user)
    speech_clips_delete(owner=user)
    user.delete()
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])


def _delete_cloned_voices(user: User) -> None:
    """Delete the user's voices at ElevenLabs too; a failure there must not keep the account."""
    from mybella.providers.speech import SpeechError, cloning_engine
    from voices.models import CustomVoice

    ids = CustomVoice.objects.filter(owner=user).exclude(provider_voice_id="")
    engine = cloning_engine() if ids.exists() else None
    for provider_voice_id in ids.values_list("provider_voice_id", flat=True) if engine else []:
        try:
            engine.delete_voice(provider_voice_id)
        except SpeechError as error:
            logger.warning("Could not delete voice %s at ElevenLabs: %s", provider_voice_id, error)


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
        "api_tokens": rows(
            ApiToken.objects.filter(user=user),
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
        ),
    }


# Keys start with a fixed tag so that secret scanners (and people) can recognise them.
API_TOKEN_TAG = "mb_"  # noqa: S105 -- a label, not a secret


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Make a new API token for `user`; return it with its key, which is never stored.

    Expired tokens of the user are cleared first; past API_TOKENS_MAX_PER_USER working
    tokens the user must revoke one before making another.
    """
    now = timezone.now()
    # Lock the user's row: two sign-ins at once must not both slip under the cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    if ApiToken.objects.filter(user=user).count() >= settings.API_TOKENS_MAX_PER_USER:
        raise ValidationError(
            _(
                "You already have %d API tokens. Revoke one you no longer use "
                "(on your profile page, or DELETE /api/v1/auth/tokens/{id}/) first."
            )
            % settings.API_TOKENS_MAX_PER_USER
        )
    key = API_TOKEN_TAG + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=key[: ApiToken.PREFIX_LENGTH],
        digest=ApiToken.hash(key),
        expires_at=now + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke `token`: the key stops working at once."""
    token.delete()
