import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mybella.core import limits
from mybella.core.models import BaseModel


class CommunicationStyle(models.TextChoices):
    WARM = "warm", _("Warm and caring")
    PLAYFUL = "playful", _("Playful and witty")
    THOUGHTFUL = "thoughtful", _("Thoughtful and reflective")
    DIRECT = "direct", _("Direct and practical")
    CALM = "calm", _("Calm and soothing")
    ENTHUSIASTIC = "enthusiastic", _("Energetic and enthusiastic")
    FORMAL = "formal", _("Polished and formal")


def avatar_upload_to(instance: "PersonaProfile", filename: str) -> str:
    """Store every avatar under a fresh random name; the user's file name is never used."""
    return f"avatars/{uuid.uuid4().hex}.webp"


class PersonaQuerySet(models.QuerySet):
    def system(self) -> "PersonaQuerySet":
        return self.filter(is_custom=False)

    def custom(self) -> "PersonaQuerySet":
        return self.filter(is_custom=True)

    def active(self) -> "PersonaQuerySet":
        return self.filter(is_active=True)


class PersonaProfile(BaseModel):
    """A companion persona: a system one curated by staff, or a user's own."""

    # What a persona's owner may set; everything else is the server's to decide.
    EDITABLE_FIELDS = (
        "name",
        "tagline",
        "bio",
        "traits",
        "communication_style",
        "communication_notes",
        "greeting",
        "example_dialogue",
        "system_prompt",
        # Character card fields (issue 11).
        "creator_notes",
        "alternate_greetings",
    )
    NAME_MAX_LENGTH = limits.PERSONA_NAME_MAX_CHARS
    TRAITS_MAX = limits.PERSONA_TRAITS_MAX
    TRAIT_MAX_LENGTH = limits.PERSONA_TRAIT_MAX_CHARS

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="personas",
        verbose_name=_("owner"),
        help_text=_("The user who made this persona; empty for system personas."),
    )
    is_custom = models.BooleanField(
        _("custom"), default=False, help_text=_("Made by a user rather than curated by staff.")
    )
    name = models.CharField(
        _("name"), max_length=NAME_MAX_LENGTH, validators=[limits.validate_storable_text]
    )
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    tagline = models.CharField(
        _("tagline"),
        max_length=limits.PERSONA_TAGLINE_MAX_CHARS,
        blank=True,
        validators=[limits.validate_storable_text],
        help_text=_("One line shown under the name."),
    )
    bio = models.TextField(
        _("bio"),
        blank=True,
        validators=[
            MaxLengthValidator(limits.PERSONA_BIO_MAX_CHARS),
            limits.validate_storable_text,
        ],
        help_text=_("Who this persona is."),
    )
    traits = models.JSONField(
        _("personality traits"),
        default=list,
        blank=True,
        validators=[limits.validate_traits],
        help_text=_("A short list of words, such as “curious” or “warm”."),
    )
    communication_style = models.CharField(
        _("communication style"),
        max_length=20,
        choices=CommunicationStyle.choices,
        default=CommunicationStyle.WARM,
    )
    communication_notes = models.TextField(
        _("style notes"),
        blank=True,
        validators=[
            MaxLengthValidator(limits.PERSONA_NOTES_MAX_CHARS),
            limits.validate_storable_text,
        ],
        help_text=_("Anything else about how this persona talks."),
    )
    greeting = models.TextField(
        _("greeting"),
        blank=True,
        validators=[
            MaxLengthValidator(limits.PERSONA_GREETING_MAX_CHARS),
            limits.validate_storable_text,
        ],
        help_text=_("The first message of a new conversation."),
    )
    example_dialogue = models.TextField(
        _("example dialogue"),
        blank=True,
        validators=[
            MaxLengthValidator(limits.PERSONA_EXAMPLE_DIALOGUE_MAX_CHARS),
            limits.validate_storable_text,
        ],
        help_text=_("A few lines showing how this persona speaks."),
    )
    system_prompt = models.TextField(
        _("system prompt"),
        blank=True,
        validators=[
            MaxLengthValidator(limits.PERSONA_SYSTEM_PROMPT_MAX_CHARS),
            limits.validate_storable_text,
        ],
        help_text=_("Extra instructions for the language model."),
    )
    creator_notes = models.TextField(
        _("about this card"),
        blank=True,
        validators=[
            MaxLengthValidator(limits.PERSONA_CREATOR_NOTES_MAX_CHARS),
            limits.validate_storable_text,
        ],
        help_text=_("The card creator's notes for people using it; never sent to the model."),
    )
    alternate_greetings = models.JSONField(
        _("alternate greetings"),
        default=list,
        blank=True,
        validators=[limits.validate_alternate_greetings],
        help_text=_("Other first messages a new conversation can open with."),
    )
    avatar = models.ImageField(_("avatar"), upload_to=avatar_upload_to, blank=True)
    extensions = models.JSONField(
        _("card extensions"),
        default=dict,
        blank=True,
        validators=[
            limits.validate_json_object,
            limits.JSONDocumentValidator(limits.PERSONA_EXTENSIONS_MAX_BYTES),
        ],
        help_text=_("Character card fields MyBella has no use for, kept to export them again."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive personas are hidden from users.")
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=100, help_text=_("System personas are listed in this order.")
    )

    objects = PersonaQuerySet.as_manager()

    class Meta:
        verbose_name = _("persona")
        verbose_name_plural = _("personas")
        ordering = ["is_custom", "position", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_custom=True, owner__isnull=False)
                | Q(is_custom=False, owner__isnull=True),
                name="persona_owner_iff_custom",
                violation_error_message=_("A custom persona has an owner; a system one has none."),
            ),
            models.UniqueConstraint(
                "owner",
                Lower("name"),
                condition=Q(owner__isnull=False),
                name="persona_unique_name_per_owner",
                violation_error_message=_("You already have a persona with this name."),
            ),
            models.UniqueConstraint(
                Lower("name"),
                condition=Q(owner__isnull=True),
                name="persona_unique_system_name",
                violation_error_message=_("A system persona with this name already exists."),
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "is_custom"], name="persona_owner_kind_idx"),
            models.Index(fields=["is_custom", "is_active", "position"], name="persona_listing_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("api:persona-detail", kwargs={"pk": self.pk})

    @property
    def kind(self) -> str:
        return "custom" if self.is_custom else "system"

    @property
    def initial(self) -> str:
        return (self.name[:1] or "?").upper()

    @property
    def avatar_hue(self) -> int:
        """Return a stable hue for the placeholder avatar of a persona without a picture."""
        return sum(ord(c) * (i + 1) for i, c in enumerate(self.slug or self.name)) % 360

    @property
    def greetings(self) -> list[str]:
        """Return every greeting a new conversation may open with, the main one first."""
        return [text for text in [self.greeting, *self.alternate_greetings] if text.strip()]


class LorebookEntry(BaseModel):
    """One World Info entry of a persona's lorebook (a character card's `character_book`).

    Its content joins the prompt when one of its keys is in the recent messages (or always,
    when constant). The card's entry fields MyBella has no use for are kept in `extra`.
    """

    class Position(models.TextChoices):
        BEFORE_CHAR = "before_char", _("Before the character")
        AFTER_CHAR = "after_char", _("After the character")

    persona = models.ForeignKey(
        PersonaProfile,
        on_delete=models.CASCADE,
        related_name="lorebook_entries",
        verbose_name=_("persona"),
    )
    comment = models.CharField(
        _("title"),
        max_length=limits.LOREBOOK_COMMENT_MAX_CHARS,
        blank=True,
        validators=[limits.validate_storable_text],
        help_text=_("A name for the entry, for you; never sent to the model."),
    )
    keys = models.JSONField(
        _("keywords"),
        default=list,
        blank=True,
        validators=[limits.validate_lorebook_keys],
        help_text=_("The entry joins the prompt when one of these is in the recent messages."),
    )
    secondary_keys = models.JSONField(
        _("secondary keywords"),
        default=list,
        blank=True,
        validators=[limits.validate_lorebook_keys],
        help_text=_("With “selective”, one of these must be there too."),
    )
    content = models.TextField(
        _("content"),
        validators=[
            MaxLengthValidator(limits.LOREBOOK_CONTENT_MAX_CHARS),
            limits.validate_storable_text,
        ],
        help_text=_("What the persona gets to know when the entry is triggered."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    constant = models.BooleanField(
        _("always included"), default=False, help_text=_("Joins every prompt, keywords or not.")
    )
    selective = models.BooleanField(
        _("selective"), default=False, help_text=_("Needs a secondary keyword as well.")
    )
    case_sensitive = models.BooleanField(_("case-sensitive keywords"), default=False)
    insertion_order = models.IntegerField(
        _("insertion order"),
        default=100,
        validators=[MinValueValidator(-1_000_000), MaxValueValidator(1_000_000)],
        help_text=_("Lower comes first in the prompt; higher is kept first when space runs out."),
    )
    position = models.CharField(
        _("position"), max_length=20, choices=Position.choices, default=Position.BEFORE_CHAR
    )
    extra = models.JSONField(
        _("other card fields"),
        default=dict,
        blank=True,
        validators=[
            limits.validate_json_object,
            limits.JSONDocumentValidator(limits.LOREBOOK_EXTRA_MAX_BYTES),
        ],
        help_text=_("The card entry's fields MyBella has no use for, kept to export them again."),
    )

    class Meta:
        verbose_name = _("lorebook entry")
        verbose_name_plural = _("lorebook entries")
        ordering = ["persona", "id"]  # the order the book lists them in

    def __str__(self) -> str:
        return self.comment or ", ".join(self.keys) or _("(no keywords)")


class PersonaSelection(BaseModel):
    """The persona a user is talking to; without a row, the default persona."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="persona_selection",
        verbose_name=_("user"),
    )
    persona = models.ForeignKey(
        PersonaProfile,
        on_delete=models.CASCADE,  # a deleted persona leaves the user with the default
        related_name="selections",
        verbose_name=_("persona"),
    )

    class Meta:
        verbose_name = _("persona selection")
        verbose_name_plural = _("persona selections")

    def __str__(self) -> str:
        return f"{self.user_id} talks to {self.persona_id}"
