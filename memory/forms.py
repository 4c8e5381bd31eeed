"""Forms of the memory page; the services re-check everything they are given."""

from django import forms
from django.utils.translation import gettext_lazy as _

from memory.models import ConversationMemory
from mybella.core import limits

CONTENT_MAX_LENGTH = limits.MEMORY_MAX_CHARS


class MemoryForm(forms.Form):
    """Add a memory, or change one: its content, kind and importance."""

    content = forms.CharField(
        label=_("What to remember"),
        max_length=CONTENT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=ConversationMemory.Kind.choices,
        initial=ConversationMemory.Kind.FACT,
    )
    importance = forms.IntegerField(
        label=_("Importance"),
        min_value=1,
        max_value=10,
        initial=5,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    @classmethod
    def for_memory(cls, memory: ConversationMemory) -> "MemoryForm":
        """Return the edit form of `memory`, with field ids of its own."""
        return cls(
            initial={
                "content": memory.content,
                "kind": memory.kind,
                "importance": memory.importance,
            },
            auto_id=f"memory-{memory.pk}-%s",
        )


class PinForm(forms.Form):
    """Pin or unpin a memory; the value is explicit so a repeated request changes nothing."""

    pinned = forms.TypedChoiceField(
        choices=[("on", _("Pin")), ("off", _("Unpin"))], coerce=lambda value: value == "on"
    )


class RememberForm(forms.Form):
    """Switch remembering on or off for one persona."""

    remember = forms.TypedChoiceField(
        choices=[("on", _("On")), ("off", _("Off"))], coerce=lambda value: value == "on"
    )


REPLY_LENGTHS = [("", "—"), ("short", _("Short")), ("medium", _("Medium")), ("long", _("Long"))]


class PreferencesForm(forms.Form):
    """How the user likes one persona to talk to them; an empty field removes that preference."""

    KEYS = ("preferred_name", "reply_length", "tone", "language")

    preferred_name = forms.CharField(
        label=_("Preferred name"),
        max_length=100,
        required=False,
        help_text=_("What they call you."),
    )
    reply_length = forms.ChoiceField(label=_("Reply length"), choices=REPLY_LENGTHS, required=False)
    tone = forms.CharField(
        label=_("Tone"),
        max_length=200,
        required=False,
        help_text=_("For example: gentle, playful, straight to the point."),
    )
    language = forms.CharField(
        label=_("Language"),
        max_length=100,
        required=False,
        help_text=_("The language they answer in."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("auto_id", "pref-%s")
        super().__init__(*args, **kwargs)
