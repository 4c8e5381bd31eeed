from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from memory import rules
from mybella.core import limits
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
    content = models.TextField(
        _("content"),
        validators=[
            MaxLengthValidator(
                limits.MEMORY_MAX_CHARS,
                message=_(
                    "Keep a memory to at most %(limit_value)d characters (it has %(show_value)d)."
                ),
            ),
            limits.validate_storable_text,
        ],
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.FACT)
    importance = models.PositiveSmallIntegerField(
        _("importance"),
        default=rules.IMPORTANCE_DEFAULT,
        validators=[
            MinValueValidator(rules.IMPORTANCE_MIN),
            MaxValueValidator(rules.IMPORTANCE_MAX),
        ],
        help_text=_("1 (trivia) to 10 (never forget)."),
    )
    pinned = models.BooleanField(_("pinned"), default=False)
    source_messages = models.ManyToManyField(
        "chat.ChatMessage",
        blank=True,
        related_name="memories",
        verbose_name=_("source messages"),
    )
    last_recalled_at = models.DateTimeField(_("last recalled"), null=True, blank=True)
    embedding = models.JSONField(
        _("embedding"),
        null=True,
        blank=True,
        help_text=_("The configured model's embedding of the content, when it offers one."),
    )
    # A summary's range: the first and last message of the stretch it folds, and their
    # times (kept when the conversation is deleted). Set by memory.summaries alone.
    covers_first_message = models.ForeignKey(
        "chat.ChatMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("first message covered"),
    )
    covers_last_message = models.ForeignKey(
        "chat.ChatMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last message covered"),
    )
    covers_conversation = models.ForeignKey(
        "chat.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("conversation covered"),
    )
    covers_from = models.DateTimeField(_("covers from"), null=True, blank=True)
    covers_to = models.DateTimeField(
        _("covers to"),
        null=True,
        blank=True,
        help_text=_("A summary covers the messages sent from 'covers from' to this time."),
    )
    slot = models.CharField(
        _("about"),
        max_length=rules.SLOT_MAX_CHARS,
        blank=True,
        help_text=_(
            "What the memory is a fact about (where they live, their dog's name, …): a newer "
            "fact about the same thing replaces it. Empty when nothing can replace it."
        ),
    )
    happened_on = models.DateField(
        _("happened on"),
        null=True,
        blank=True,
        help_text=_("When what it tells happened or will happen, when it says so."),
    )
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name=_("superseded by"),
        help_text=_("The newer memory that replaced this one; a replaced memory is not recalled."),
    )

    class Meta:
        verbose_name = _("memory")
        verbose_name_plural = _("memories")
        ordering = ["-pinned", "-importance", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    importance__gte=rules.IMPORTANCE_MIN, importance__lte=rules.IMPORTANCE_MAX
                ),
                name="memory_importance_1_to_10",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "persona", "created_at"], name="memory_pair_created_idx"),
            models.Index(fields=["user", "persona", "covers_to"], name="memory_pair_covers_idx"),
            # Recall reads a pair's pinned memories on every search (recall_word_counts_and_extras).
            models.Index(
                fields=["user", "persona"], condition=Q(pinned=True), name="memory_pair_pinned_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.content[:60]

    @property
    def is_active(self) -> bool:
        """Whether the memory still counts: not replaced by a newer one."""
        return self.superseded_by_id is None


# The kinds a person (the page, the API, an import) may give a memory: a summary is the
# summaries' own (`memory.services` refuses it; the forms and the schema don't offer it).
PEOPLE_KINDS = [
    (kind.value, kind.label)
    for kind in ConversationMemory.Kind
    if kind != ConversationMemory.Kind.SUMMARY
]


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
    key = models.SlugField(_("key"), max_length=limits.PREFERENCE_KEY_MAX_CHARS)
    value = models.CharField(_("value"), max_length=limits.PREFERENCE_VALUE_MAX_CHARS, blank=True)

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


class MemoryEvent(models.Model):
    """One change in a memory's life: created, updated or deleted, and by whom or what."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        CONFIRMED = "confirmed", _("Heard again")
        SUPERSEDED = "superseded", _("Replaced by a newer memory")
        DELETED = "deleted", _("Deleted")

    class Actor(models.TextChoices):
        USER = "user", _("You")
        EXTRACTOR = "extractor", _("Noticed in conversation")
        MODEL = "model", _("The language model")
        IMPORT = "import", _("Imported history")

    memory = models.ForeignKey(
        ConversationMemory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("memory"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memory_events",
        verbose_name=_("user"),
    )
    persona = models.ForeignKey(
        "personas.PersonaProfile",
        on_delete=models.CASCADE,
        related_name="memory_events",
        verbose_name=_("persona"),
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    actor = models.CharField(_("by"), max_length=10, choices=Actor.choices)
    content_before = models.TextField(_("before"), blank=True)
    content_after = models.TextField(_("after"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("memory event")
        verbose_name_plural = _("memory events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["memory", "-created_at"], name="memory_event_memory_idx"),
            models.Index(fields=["user", "persona", "created_at"], name="memory_event_pair_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}"


class MemorySettings(BaseModel):
    """Whether one persona remembers things about one user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memory_settings",
        verbose_name=_("user"),
    )
    persona = models.ForeignKey(
        "personas.PersonaProfile",
        on_delete=models.CASCADE,
        related_name="memory_settings",
        verbose_name=_("persona"),
    )
    remember = models.BooleanField(
        _("remember things"),
        default=True,
        help_text=_("When off, nothing new is remembered and nothing is recalled."),
    )

    class Meta:
        verbose_name = _("memory settings")
        verbose_name_plural = _("memory settings")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "persona"], name="memory_settings_one_per_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"remember={self.remember}"


class MessageExtraction(models.Model):
    """The mark that a user message's memories were extracted: it happens once per message.

    Written in the same transaction as the memories it produced, so a task that dies or
    runs twice neither loses a message nor remembers one twice.
    """

    message = models.OneToOneField(
        "chat.ChatMessage",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="memory_extraction",
        verbose_name=_("message"),
    )
    extracted_at = models.DateTimeField(_("extracted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message extraction")
        verbose_name_plural = _("message extractions")

    def __str__(self) -> str:
        return f"message {self.message_id} extracted"


class SummarisedStretch(models.Model):
    """The mark that a stretch of a conversation was folded into a summary: once per stretch.

    Written in the same transaction as the summary, keyed by the stretch's first message,
    so two runs can't both summarise it; it outlives the summary, so a summary the user
    deleted (or forgot with everything else) is not written again.
    """

    first_message = models.OneToOneField(
        "chat.ChatMessage",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="summarised_stretch",
        verbose_name=_("first message"),
    )
    last_message = models.ForeignKey(
        "chat.ChatMessage",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("last message"),
    )
    conversation = models.ForeignKey(
        "chat.Conversation",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("conversation"),
    )
    last_at = models.DateTimeField(_("last message sent"))
    summarised_at = models.DateTimeField(_("summarised at"), auto_now_add=True)

    class Meta:
        verbose_name = _("summarised stretch")
        verbose_name_plural = _("summarised stretches")
        indexes = [
            models.Index(fields=["conversation", "last_at"], name="stretch_conversation_idx"),
        ]

    def __str__(self) -> str:
        return f"messages {self.first_message_id}–{self.last_message_id} summarised"
