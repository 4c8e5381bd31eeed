"""Forms of the memory page, built from the model and `memory.rules`; the services re-check
everything they are given."""

from django import forms
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from memory import rules
from memory.models import PEOPLE_KINDS, ConversationMemory
from mybella.core import limits


class MemoryForm(forms.ModelForm):
    """Add a memory, or change one: its content, kind and importance.

    Its limits are the model's validators. Bind it to the posted data only, never to a
    stored memory (`instance=`): validating would copy the input onto that memory, and the
    service deciding what changed would then see no change. `for_memory` shows one.
    """

    class Meta:
        model = ConversationMemory
        fields = ["content", "kind", "importance"]
        labels = {
            "content": _("What to remember"),
            "kind": _("Kind"),
            "importance": _("Importance"),
        }
        help_texts = {"importance": ""}
        widgets = {
            "content": forms.Textarea(attrs={"rows": 2, "maxlength": limits.MEMORY_MAX_CHARS}),
            "importance": forms.NumberInput(
                attrs={
                    "inputmode": "numeric",
                    "min": rules.IMPORTANCE_MIN,
                    "max": rules.IMPORTANCE_MAX,
                }
            ),
        }

    def __init__(self, *args: object, kind: str = "", **kwargs: object) -> None:
        """Offer the kinds a person may choose; a summary's own form (`kind`) keeps its kind."""
        super().__init__(*args, **kwargs)
        summary = ConversationMemory.Kind.SUMMARY
        self.fields["kind"].choices = (
            [(summary.value, summary.label)] if kind == summary else PEOPLE_KINDS
        )

    @classmethod
    def for_memory(cls, memory: ConversationMemory) -> "MemoryForm":
        """Return the edit form of `memory`, with field ids of its own."""
        return cls(
            initial=model_to_dict(memory, fields=cls._meta.fields),
            auto_id=f"memory-{memory.pk}-%s",
            kind=memory.kind,
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


def _preference_field(rule: rules.PreferenceRule) -> forms.Field:
    if rule.choices:
        return forms.ChoiceField(
            label=rule.label,
            choices=[("", "—"), *rule.choices],
            required=False,
            help_text=rule.help_text,
        )
    return forms.CharField(
        label=rule.label,
        max_length=rule.max_length or limits.PREFERENCE_VALUE_MAX_CHARS,
        required=False,
        help_text=rule.help_text,
    )


class PreferencesForm(forms.Form):
    """How the user likes one persona to talk to them; an empty field removes that preference.

    One field per known preference, from `memory.rules.PREFERENCE_RULES`.
    """

    KEYS = tuple(rules.PREFERENCE_RULES)

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("auto_id", "pref-%s")
        super().__init__(*args, **kwargs)
        for key, rule in rules.PREFERENCE_RULES.items():
            self.fields[key] = _preference_field(rule)
