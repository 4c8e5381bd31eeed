"""Staff curate system personas here, through the same services as everyone else."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mybella.core.admin import BoundedSearchAdmin
from personas import lorebook, services
from personas.avatars import AvatarError, avatar_process
from personas.forms import GreetingsTextField, TraitsTextField, bound_text_lengths
from personas.lorebook_section import KeysField
from personas.models import LorebookEntry, PersonaProfile
from personas.sections import PersonaSection, persona_sections


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("system", _("System")), ("custom", _("Custom"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in {"system", "custom"}:
            return queryset.filter(is_custom=self.value() == "custom")
        return queryset


class TraitsListField(TraitsTextField):
    """Traits as a list for staff: one per line in a textarea (commas separate them too)."""

    widget = forms.Textarea(attrs={"rows": 6})

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("help_text", _("One trait per line (commas separate them too)."))
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value


class PersonaAdminForm(forms.ModelForm):
    """The system persona form: the model's fields and rules, traits as on the page."""

    # A plain file field: the avatar is checked by avatar_process, with its clearer messages.
    avatar = forms.FileField(label=_("avatar"), required=False, widget=forms.ClearableFileInput)
    traits = TraitsListField(label=_("Personality traits"))
    alternate_greetings = GreetingsTextField(label=_("Alternate greetings"))

    class Meta:
        model = PersonaProfile
        fields = [
            "name",
            "slug",
            "tagline",
            "avatar",
            "is_active",
            "position",
            "bio",
            "traits",
            "communication_style",
            "communication_notes",
            "greeting",
            "alternate_greetings",
            "system_prompt",
            "example_dialogue",
            "creator_notes",
            "extensions",
        ]

    # Set by `PersonaProfileAdmin.get_form`: the persona sections shown with the persona.
    user = None
    sections: tuple[PersonaSection, ...] = ()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        bound_text_lengths(self)
        # Each section validates its part of the same data with its own form.
        persona = self.instance if self.instance.pk else PersonaProfile(is_custom=False)
        self.section_forms = [
            (section, section.form_class(*self._bound(), user=self.user, persona=persona))
            for section in self.sections
        ]
        for section, section_form in self.section_forms:
            for name, field in section_form.fields.items():
                self.fields[name] = field
            if self.instance.pk and section.initial is not None:
                self.initial |= {
                    name: value
                    for name, value in section.initial(self.instance).items()
                    if name in section_form.fields
                }

    def _bound(self) -> tuple:
        return (self.data, self.files) if self.is_bound else ()

    def clean(self) -> dict:
        cleaned = super().clean()
        for _section, section_form in self.section_forms:
            if not section_form.is_valid():
                for name, errors in section_form.errors.items():
                    self.add_error(None if name == "__all__" else name, errors)
        return cleaned

    def _get_validation_exclusions(self) -> set[str]:
        # The form has no owner field, yet the constraints on names depend on it: check them
        # with the instance's own (none, for a system persona), so a taken name is a form
        # error rather than a failed save.
        return super()._get_validation_exclusions() - {"owner", "is_custom"}

    def clean_avatar(self) -> object:
        avatar = self.cleaned_data.get("avatar")
        if avatar and "avatar" in self.changed_data:
            # Only a check, for the message: the service re-encodes the upload itself.
            try:
                avatar_process(avatar)
            except AvatarError as error:
                raise forms.ValidationError(str(error)) from error
        return avatar

    def service_input(self) -> dict:
        """Return what the persona services take from this form."""
        data = self.cleaned_data
        avatar = data.get("avatar") if "avatar" in self.changed_data else None
        return {
            "sections": {
                section.name: section_form.cleaned_data
                for section, section_form in self.section_forms
            },
            "fields": {name: data[name] for name in PersonaProfile.EDITABLE_FIELDS},
            "staff_fields": {name: data[name] for name in services.STAFF_FIELDS},
            "avatar": avatar or None,
            "remove_avatar": avatar is False,
        }


class LorebookEntryAdminForm(forms.ModelForm):
    keys = KeysField(label=_("keywords"), help_text=_("Separated by commas."))
    secondary_keys = KeysField(label=_("secondary keywords"), help_text=_("Separated by commas."))

    class Meta:
        model = LorebookEntry
        fields = lorebook.ENTRY_EDITABLE_FIELDS


class LorebookEntryInline(admin.StackedInline):
    """A system persona's lorebook; saved through `lorebook_set` with the persona."""

    model = LorebookEntry
    form = LorebookEntryAdminForm
    extra = 0
    classes = ["collapse"]
    fields = [
        ("comment", "enabled"),
        "keys",
        "content",
        ("constant", "selective", "case_sensitive"),
        "secondary_keys",
        ("insertion_order", "position"),
    ]


@admin.register(PersonaProfile)
class PersonaProfileAdmin(BoundedSearchAdmin):
    """Staff curate system personas here; users' own personas are shown read-only."""

    form = PersonaAdminForm
    list_display = [
        "thumbnail",
        "name",
        "kind_label",
        "owner",
        "is_active",
        "position",
        "updated_at",
    ]
    list_display_links = ["thumbnail", "name"]
    list_filter = [KindFilter, "is_active", "communication_style"]
    search_fields = ["name", "slug", "tagline", "bio", "owner__username"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["owner"]
    ordering = ["is_custom", "position", "name"]
    readonly_fields = ["thumbnail", "owner", "created_at", "updated_at"]
    actions = ["activate", "deactivate", "duplicate"]
    inlines = [LorebookEntryInline]
    fieldsets = [
        (
            None,
            {"fields": ["name", "slug", "tagline", "thumbnail", "avatar", "is_active", "position"]},
        ),
        (
            _("Personality"),
            {
                "fields": [
                    "bio",
                    "traits",
                    "communication_style",
                    "communication_notes",
                    "greeting",
                    "alternate_greetings",
                ]
            },
        ),
        (
            _("Advanced"),
            {
                "fields": ["system_prompt", "example_dialogue", "creator_notes", "extensions"],
                "classes": ["collapse"],
            },
        ),
        (_("Record"), {"fields": ["owner", "created_at", "updated_at"]}),
    ]

    class Media:
        css = {"all": ["css/hues.css", "css/admin.css"]}

    def _sections_for(self, obj: PersonaProfile | None) -> tuple[PersonaSection, ...]:
        # Users' personas are shown read-only, their sections not at all.
        return () if obj is not None and obj.is_custom else tuple(persona_sections)

    def get_form(
        self, request: HttpRequest, obj: PersonaProfile | None = None, **kwargs: object
    ) -> type[forms.ModelForm]:
        sections = self._sections_for(obj)
        persona = obj or PersonaProfile(is_custom=False)
        # The sections' fields are declared on the form class, so the admin may place them.
        declared = {
            name: field
            for section in sections
            for name, field in section.form_class(user=request.user, persona=persona).fields.items()
        }
        kwargs["form"] = type(
            "PersonaAdminForm",
            (self.form,),
            {**declared, "user": request.user, "sections": sections},
        )
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: PersonaProfile | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))
        persona = obj or PersonaProfile(is_custom=False)
        for section in self._sections_for(obj):
            names = list(section.form_class(user=request.user, persona=persona).fields)
            fieldsets.insert(-1, (section.name.capitalize(), {"fields": names}))
        return fieldsets

    @admin.display(description=_("avatar"))
    def thumbnail(self, persona: PersonaProfile) -> str:
        # Classes, not style="": the Content-Security-Policy refuses inline styles.
        if persona.avatar:
            return format_html(
                '<img class="persona-thumb" src="{}" alt="" width="40" height="40">',
                persona.avatar.url,
            )
        return format_html(
            '<span class="persona-thumb persona-thumb-placeholder hue-{}">{}</span>',
            round(persona.avatar_hue / 15),
            persona.initial,
        )

    @admin.display(description=_("kind"), ordering="is_custom")
    def kind_label(self, persona: PersonaProfile) -> str:
        return _("Custom") if persona.is_custom else _("System")

    def has_change_permission(
        self, request: HttpRequest, obj: PersonaProfile | None = None
    ) -> bool:
        if obj is not None and obj.is_custom:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: PersonaProfile | None = None
    ) -> bool:
        if obj is not None and obj.is_custom:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: PersonaProfile, form: forms.Form, change: bool
    ) -> None:
        # Personas made here are system personas: the admin never edits a user's. `obj`
        # holds the form's values already; the services compare against what is stored.
        values = form.service_input()
        if change:
            obj.refresh_from_db()
            services.persona_update(persona=obj, user=request.user, **values)
            return
        values.pop("remove_avatar")
        persona = services.persona_create_system(user=request.user, **values)
        # The admin goes on with `obj` (its log entry, the redirect): make it the new row.
        obj.pk = persona.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def save_formset(
        self, request: HttpRequest, form: forms.Form, formset: forms.BaseFormSet, change: bool
    ) -> None:
        # The lorebook inline is written by its service, like the persona itself.
        entries, kept, deleted = [], [], []
        for row in formset.forms:
            if not row.has_changed() and row.instance.pk is None:
                continue
            if formset.can_delete and formset._should_delete_form(row):
                if row.instance.pk is not None:
                    deleted.append(row.instance)
                continue
            data = {name: row.cleaned_data[name] for name in lorebook.ENTRY_EDITABLE_FIELDS}
            entries.append({**data, "id": row.instance.pk} if row.instance.pk else data)
            kept.append(row)
        saved = lorebook.lorebook_set(persona=form.instance, user=request.user, entries=entries)
        # What the admin's history message reports.
        pairs = list(zip(kept, saved, strict=True))
        formset.new_objects = [entry for row, entry in pairs if row.instance.pk is None]
        formset.changed_objects = [
            (entry, row.changed_data)
            for row, entry in pairs
            if row.instance.pk is not None and row.has_changed()
        ]
        formset.deleted_objects = deleted

    def delete_model(self, request: HttpRequest, obj: PersonaProfile) -> None:
        services.persona_delete(persona=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for persona in queryset.filter(is_custom=False):
            services.persona_delete(persona=persona, user=request.user)

    def _system_only(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        skipped = queryset.filter(is_custom=True).count()
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "Skipped %d custom persona: users' personas are theirs to change.",
                    "Skipped %d custom personas: users' personas are theirs to change.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )
        return queryset.filter(is_custom=False)

    @admin.action(description=_("Activate selected system personas"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.persona_set_active(
            user=request.user, personas=self._system_only(request, queryset), active=True
        )
        self.message_user(
            request, ngettext("Activated %d persona.", "Activated %d personas.", count) % count
        )

    @admin.action(description=_("Deactivate selected system personas"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.persona_set_active(
            user=request.user, personas=self._system_only(request, queryset), active=False
        )
        self.message_user(
            request,
            ngettext(
                "Deactivated %d persona: users' conversations and memories with them are "
                "hidden until it is active again.",
                "Deactivated %d personas: users' conversations and memories with them are "
                "hidden until they are active again.",
                count,
            )
            % count,
        )

    @admin.action(description=_("Duplicate selected system personas"), permissions=["add"])
    def duplicate(self, request: HttpRequest, queryset: QuerySet) -> None:
        copies = [
            services.persona_duplicate(persona=persona, user=request.user)
            for persona in self._system_only(request, queryset)
        ]
        self.message_user(
            request,
            ngettext(
                "Made %d inactive copy; edit and activate it when ready.",
                "Made %d inactive copies; edit and activate them when ready.",
                len(copies),
            )
            % len(copies),
        )
