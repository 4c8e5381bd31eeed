"""The lorebook as a persona section: edited in the persona modal and the API with the persona.

Registered into `persona_sections` from `personas.receivers`. The page sends the entries as
a formset (prefix "lorebook"); the API as `{"lorebook": {"entries": [...]}}`. Both go to
`lorebook_set`, inside the transaction saving the persona. A request that sends no
lorebook leaves it as it is.
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from mybella.core import limits
from mybella.core.serializers import ModelSerializer, StrictCharField
from mybella.users.models import User
from personas import lorebook
from personas.models import LorebookEntry, PersonaProfile
from personas.sections import PersonaSection

PREFIX = "lorebook"


class KeysField(forms.CharField):
    """Keywords typed as one line separated by commas."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "max_length", limits.LOREBOOK_KEYS_MAX * (limits.LOREBOOK_KEY_MAX_CHARS + 2)
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def clean(self, value: object) -> list[str]:  # type: ignore[override]
        text = super().clean(value)
        keys = [key.strip() for key in text.split(",") if key.strip()]
        limits.validate_lorebook_keys(keys)
        return keys


class LorebookEntryForm(forms.ModelForm):
    """One entry's row in the modal; `id` names an entry being changed."""

    id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    keys = KeysField(
        label=_("Keywords"), help_text=_("Separated by commas; any of them triggers the entry.")
    )
    secondary_keys = KeysField(label=_("Secondary keywords"))

    class Meta:
        model = LorebookEntry
        fields = lorebook.ENTRY_EDITABLE_FIELDS
        widgets = {"content": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"comment": "", "secondary_keys": "", "insertion_order": ""}


LorebookFormSet = forms.formset_factory(
    LorebookEntryForm,
    extra=0,
    can_delete=True,
    max_num=limits.LOREBOOK_ENTRIES_MAX,
    validate_max=True,
)


class LorebookForm(forms.Form):
    """The section's form: the entries' formset, taken only when the request sent it."""

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        user: User | None = None,
        persona: PersonaProfile | None = None,
    ) -> None:
        super().__init__(data, files)
        self.sent = data is not None and f"{PREFIX}-TOTAL_FORMS" in data
        self.formset = LorebookFormSet(data if self.sent else None, prefix=PREFIX)

    def clean(self) -> dict[str, Any]:
        if not self.sent:
            return {}
        if not self.formset.is_valid():
            raise ValidationError(_("Check the lorebook entries."))
        entries = []
        for row in self.formset.forms:
            if not row.has_changed() and not row.cleaned_data.get("id"):
                continue  # an empty row added and left blank
            if row.cleaned_data.get("DELETE"):
                continue
            data = {name: row.cleaned_data[name] for name in lorebook.ENTRY_EDITABLE_FIELDS}
            if row.cleaned_data.get("id"):
                data["id"] = row.cleaned_data["id"]
            entries.append(data)
        return {"entries": entries}


class LorebookEntrySerializer(ModelSerializer):
    id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=limits.JSON_MAX_INT,
        help_text="An entry of this persona's lorebook to change; leave out for a new one.",
    )
    keys = serializers.ListField(
        child=StrictCharField(max_length=limits.LOREBOOK_KEY_MAX_CHARS),
        max_length=limits.LOREBOOK_KEYS_MAX,
        required=False,
    )
    secondary_keys = serializers.ListField(
        child=StrictCharField(max_length=limits.LOREBOOK_KEY_MAX_CHARS),
        max_length=limits.LOREBOOK_KEYS_MAX,
        required=False,
    )

    class Meta:
        model = LorebookEntry
        fields = ["id", *lorebook.ENTRY_EDITABLE_FIELDS]


class LorebookSerializer(serializers.Serializer):
    entries = LorebookEntrySerializer(many=True, max_length=limits.LOREBOOK_ENTRIES_MAX)


def represent(persona: PersonaProfile) -> dict[str, Any]:
    """Return the persona's lorebook for the API (prefetched `lorebook_entries` are used)."""
    entries = sorted(persona.lorebook_entries.all(), key=lambda entry: entry.pk)
    return {"lorebook": {"entries": LorebookEntrySerializer(entries, many=True).data}}


def save(*, persona: PersonaProfile, user: User, data: dict[str, Any]) -> None:
    if "entries" in data:
        lorebook.lorebook_set(persona=persona, user=user, entries=data["entries"])
        # What the caller shows next is the new lorebook, not one read before.
        getattr(persona, "_prefetched_objects_cache", {}).pop("lorebook_entries", None)


LOREBOOK_SECTION = PersonaSection(
    name="lorebook",
    form_class=LorebookForm,
    template="personas/_lorebook.html",
    serializer_class=LorebookSerializer,
    represent=represent,
    save=save,
    copy=lorebook.lorebook_copy,
    prefetch_related=("lorebook_entries",),
    # Up to LOREBOOK_ENTRIES_MAX entries of LOREBOOK_CONTENT_MAX_CHARS each (2 MB) per persona.
    listed=False,
)
