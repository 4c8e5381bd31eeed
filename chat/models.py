from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mybella.core.models import BaseModel

# A reply pending this long was left by a process that died while writing it.
PENDING_STALE_AFTER = timedelta(minutes=10)


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
        PENDING = "pending", _("Being written")
        STOPPED = "stopped", _("Stopped")
        FAILED = "failed", _("Failed")

    # No index of their own on created_at, conversation or user: the thread index
    # (conversation, created_at, id) and the pair index (user, persona, created_at) begin
    # with the two keys (their lookups, and the cascades' `IN`, use them), and nothing reads
    # messages by time alone; a global created_at index only led PostgreSQL's generic plan
    # for "when did the user last write to this persona" to walk every user's messages back.
    # Each index was one more write for every message saved and every reply finished.
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_messages",
        verbose_name=_("user"),
        db_index=False,
    )
    persona = models.ForeignKey(
        "personas.PersonaProfile",
        on_delete=models.CASCADE,
        related_name="chat_messages",
        verbose_name=_("persona"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("reply to"),
        help_text=_("The user's message this reply answers."),
    )
    content = models.TextField(
        _("content"),
        blank=True,
        help_text=_("The text that counts: a regenerated reply's selected alternative."),
    )
    alternatives = models.JSONField(
        _("alternatives"),
        default=list,
        blank=True,
        help_text=_(
            "Every text a regenerated reply has had, oldest first; empty until it is regenerated."
        ),
    )
    selected = models.PositiveSmallIntegerField(
        _("selected alternative"),
        default=0,
        help_text=_("Which of the alternatives is shown and counts (its text is the content)."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OK)
    error = models.TextField(
        _("error"),
        blank=True,
        help_text=_("Why the reply failed or stopped, in words a user understands."),
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

    @property
    def texts(self) -> list[str]:
        """Return the reply's alternatives: the stored ones, else its one text (if any)."""
        if self.alternatives:
            return list(self.alternatives)
        return [self.content] if self.content else []

    @property
    def is_retryable(self) -> bool:
        """Return whether retry may answer again: the reply failed, stopped, or was abandoned.

        Only a reply that knows its message can be retried.
        """
        if self.role != self.Role.ASSISTANT or self.reply_to_id is None:
            return False
        if self.status in (self.Status.FAILED, self.Status.STOPPED):
            return True
        return (
            self.status == self.Status.PENDING
            and self.updated_at < timezone.now() - PENDING_STALE_AFTER
        )

    @property
    def is_being_written(self) -> bool:
        """Return whether a reply is pending and its writer may still be at it."""
        return self.status == self.Status.PENDING and not self.is_retryable

    @classmethod
    def retryable(cls) -> models.Q:
        """Return the condition of `is_retryable` for a query."""
        return models.Q(role=cls.Role.ASSISTANT, reply_to__isnull=False) & (
            models.Q(status__in=[cls.Status.FAILED, cls.Status.STOPPED])
            | models.Q(
                status=cls.Status.PENDING, updated_at__lt=timezone.now() - PENDING_STALE_AFTER
            )
        )
