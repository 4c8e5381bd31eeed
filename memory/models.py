from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mybella.core.models import BaseModel


class ConversationMemory(BaseModel):
    """Something one persona remembers about one user."""

    class Kind(models.TextChoices):
        FACT = "fact", _("Fact")
        PREFERENCE = "preference", _("Preference")
        EVENT = "event", _("Event")
        SUMMARY = "summary", _("Summary")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memories",
        verbose_name=_("user"),
    )
    persona = models.ForeignKey(
        "personas.PersonaProfile",
        on_delete=models.CASCADE,
        related_name="memories",
        verbose_name=_("persona"),
    )
    content = models.TextField(_("content"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.FACT)
    importance = models.PositiveSmallIntegerField(
        _("importance"), default=5, help_text=_("1 (trivia) to 10 (never forget).")
    )
    pinned = models.BooleanField(_("pinned"), default=False)
    source_messages = models.ManyToManyField(
        "chat.ChatMessage",
        blank=True,
        related_name="memories",
        verbose_name=_("source messages"),
    )
    last_recalled_at = models.DateTimeField(_("last recalled"), null=True, blank=True)

    class Meta:
        verbose_name = _("memory")
        verbose_name_plural = _("memories")
        ordering = ["-pinned", "-importance", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(importance__gte=1, importance__lte=10),
                name="memory_importance_1_to_10",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "persona", "created_at"], name="memory_pair_created_idx"),
        ]

    def __str__(self) -> str:
        return self.content[:60]


class UserPreference(BaseModel):
    """How a user likes one persona to talk to them: preferred name, reply length, tone, …"""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="preferences",
        verbose_name=_("user"),
    )
    persona = models.ForeignKey(
        "personas.PersonaProfile",
        on_delete=models.CASCADE,
        related_name="preferences",
        verbose_name=_("persona"),
    )
    key = models.SlugField(_("key"), max_length=50)
    value = models.CharField(_("value"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "persona", "key"], name="preference_unique_per_pair"
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "persona", "created_at"], name="preference_pair_created_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
