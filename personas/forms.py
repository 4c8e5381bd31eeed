import re

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from mybella.core import limits
from personas import rules
from personas.models import PersonaProfile


class TraitsTextField(forms.CharField):
    """Traits typed as one line separated by commas, cleaned strictly (`personas.rules`).

    Too many traits or one too long is an error, never a silent cut.
    """

    def __init__(self, **kwargs: object) -> None:
        # Room for the most traits at their longest, with their separators.
        kwargs.setdefault(
            "max_length", limits.PERSONA_TRAITS_MAX * (limits.PERSONA_TRAIT_MAX_CHARS + 2)
        )
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separated by commas, e.g. warm, curious, witty."))
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):  # the stored value, when Django compares
            return rules.clean_traits(list(value), mode="strict")
        text = super().to_python(value)
        if self.max_length is not None:
            MaxLengthValidator(self.max_length)(text)
        return rules.traits_from_text(text, mode="strict")

    def run_validators(self, value: object) -> None:
        # CharField's validators are about text; the text was checked in to_python, and
        # the traits themselves by the rules.
        return None


class GreetingsTextField(forms.CharField):
    """Alternate greetings typed in one box, each separated from the next by a line of ---."""

    SEPARATOR = "---"

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault(
            "help_text",
            _("Other ways they may open a new conversation. Put a line of --- between two."),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list | tuple):
            return f"\n{self.SEPARATOR}\n".join(str(item) for item in value)
        return value

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):  # the stored value, when Django compares
            return list(value)
        text = super().to_python(value)
        greetings = re.split(rf"(?m)^[ \t]*{re.escape(self.SEPARATOR)}[ \t]*$", text)
        return [greeting.strip() for greeting in greetings if greeting.strip()]

    def run_validators(self, value: object) -> None:
        limits.validate_alternate_greetings(value)


def bound_text_lengths(form: forms.BaseForm) -> None:
    """Put each persona text field's limit on its widget, read from the model field.

    The browser then stops typing at the limit; the model's validators still check it.
    """
    for name in PersonaProfile.EDITABLE_FIELDS:
        field = form.fields.get(name)
        limit = rules.field_max_chars(name)
        if limit and isinstance(field, forms.CharField) and not isinstance(field, TraitsTextField):
            field.widget.attrs.setdefault("maxlength", str(limit))


class PersonaForm(forms.ModelForm):
    """The persona modal: identity, personality and advanced sections.

    The fields, their limits and choices come from the model. The form is always bound
    to a new, unsaved instance (never the persona being edited): model validation runs on
    that copy, and `persona_fields()` goes to `persona_create`/`persona_update`, which
    write only what changed. Uniqueness of the name is the services' rule (they know the
    owner).
    """

    traits = TraitsTextField(label=_("Personality traits"))
    alternate_greetings = GreetingsTextField(label=_("Alternate greetings"))
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        help_text=_("PNG, JPEG, WebP or GIF; cropped to a square."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
    )
    remove_avatar = forms.BooleanField(label=_("Remove the current avatar"), required=False)

    class Meta:
        model = PersonaProfile
        fields = PersonaProfile.EDITABLE_FIELDS
        # The page's own wording; labels, limits and choices are the model's.
        help_texts = {
            "tagline": _("One line that sums them up."),
            "bio": "",
            "communication_notes": _("Anything else about how they talk."),
            "greeting": _("The first thing they say in a new conversation."),
            "system_prompt": _("Extra instructions for the AI model."),
            "example_dialogue": _(
                "A few lines in their voice. Use {{user}} and {{char}} for the speakers."
            ),
            "creator_notes": _("Notes for people using this character; the AI never sees them."),
        }
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 4}),
            "communication_notes": forms.Textarea(attrs={"rows": 2}),
            "greeting": forms.Textarea(attrs={"rows": 2}),
            "system_prompt": forms.Textarea(attrs={"rows": 3}),
            "example_dialogue": forms.Textarea(attrs={"rows": 3}),
            "creator_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        if kwargs.get("instance") is not None:
            raise TypeError("PersonaForm validates a copy: pass no instance.")
        super().__init__(*args, **kwargs)
        bound_text_lengths(self)

    def persona_fields(self) -> dict:
        """Return the cleaned values the persona services take as `fields`."""
        return {name: self.cleaned_data[name] for name in PersonaProfile.EDITABLE_FIELDS}

    @classmethod
    def initial_for(cls, persona: PersonaProfile) -> dict:
        return {
            "name": persona.name,
            "tagline": persona.tagline,
            "bio": persona.bio,
            "traits": ", ".join(persona.traits),
            "communication_style": persona.communication_style,
            "communication_notes": persona.communication_notes,
            "greeting": persona.greeting,
            "system_prompt": persona.system_prompt,
            "example_dialogue": persona.example_dialogue,
            "creator_notes": persona.creator_notes,
            "alternate_greetings": GreetingsTextField().prepare_value(persona.alternate_greetings),
        }


class CardImportForm(forms.Form):
    card = forms.FileField(
        label=_("Character card"),
        help_text=_("A .png or .json Character Card (V1, V2 or V3)."),
        widget=forms.FileInput(attrs={"accept": ".png,.json,image/png,application/json"}),
    )
