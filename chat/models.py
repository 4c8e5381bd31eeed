from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mybella.core.models import BaseModel


class Conversation(BaseModel):
    """One thread between a user and one of their personas; memory spans all of a pair's threads."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conversations",
        verbose_name=_("user"),
    )
    persona = models.ForeignKey(
        "personas.PersonaProfile",
        on_delete=models.CASCADE,
        related_name="conversations",
        verbose_name=_("persona"),
    )
    title = models.CharField(_("title"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "persona", "created_at"], name="conversation_pair_created_idx"
            ),
            models.Index(
                fields=["user", "persona", "-updated_at"], name="conversation_pair_recent_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class ChatMessage(BaseModel):
    """A message in a conversation, stamped with the (user, persona) pair it belongs to."""

    class Role(models.TextChoices):
        USER = "user", _("User")
        ASSISTANT = "assistant", _("Assistant")
        SYSTEM = "system", _("System")

    class Status(models.TextChoices):
        OK = "ok", _("OK")
        FAILED = "failed", _("Failed")

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_messages",
        verbose_name=_("user"),
    )
    persona = models.ForeignKey(
        "personas.PersonaProfile",
        on_delete=models.CASCADE,
        related_name="chat_messages",
        verbose_name=_("persona"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    content = models.TextField(_("content"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OK)
    error = models.TextField(
        _("error"), blank=True, help_text=_("Why the reply failed, in words a user understands.")
    )
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    token_estimate = models.PositiveIntegerField(_("token estimate"), default=0)

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["user", "persona", "created_at"], name="message_pair_created_idx"),
            models.Index(fields=["conversation", "created_at", "id"], name="message_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"
