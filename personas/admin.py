from django import forms
from django.contrib import admin, messages
from django.core.files.base import ContentFile
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mybella.core.admin import BoundedSearchAdmin
from personas.avatars import AvatarError, avatar_process
from personas.models import PersonaProfile
from personas.services import persona_duplicate


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("system", _("System")), ("custom", _("Custom"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in {"system", "custom"}:
            return queryset.filter(is_custom=self.value() == "custom")
        return queryset


class PersonaAdminForm(forms.ModelForm):
    # A plain file field: the avatar is checked by avatar_process, with its clearer messages.
    avatar = forms.FileField(label=_("avatar"), required=False, widget=forms.ClearableFileInput)

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
            "system_prompt",
            "example_dialogue",
            "extensions",
        ]

    def clean_avatar(self) -> object:
        avatar = self.cleaned_data.get("avatar")
        if avatar and "avatar" in self.changed_data:
            try:
                processed = avatar_process(avatar)
            except AvatarError as error:
                raise forms.ValidationError(str(error)) from error
            return ContentFile(processed, name="avatar.webp")
        return avatar


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
    fieldsets = [
        (
            None,
            {"fields": ["name", "slug", "tagline", "thumbnail", "avatar", "is_active", "position"]},
        ),
        (
            _("Personality"),
            {"fields": ["bio", "traits", "communication_style", "communication_notes", "greeting"]},
        ),
        (
            _("Advanced"),
            {
                "fields": ["system_prompt", "example_dialogue", "extensions"],
                "classes": ["collapse"],
            },
        ),
        (_("Record"), {"fields": ["owner", "created_at", "updated_at"]}),
    ]

    class Media:
        css = {"all": ["css/hues.css", "css/admin.css"]}

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
        # Personas made here are system personas: the admin never edits a user's.
        if not change:
            obj.is_custom, obj.owner = False, None
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().delete_queryset(request, queryset.filter(is_custom=False))

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
        count = self._system_only(request, queryset).update(is_active=True)
        self.message_user(
            request, ngettext("Activated %d persona.", "Activated %d personas.", count) % count
        )

    @admin.action(description=_("Deactivate selected system personas"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = self._system_only(request, queryset).update(is_active=False)
        self.message_user(
            request, ngettext("Deactivated %d persona.", "Deactivated %d personas.", count) % count
        )

    @admin.action(description=_("Duplicate selected system personas"), permissions=["add"])
    def duplicate(self, request: HttpRequest, queryset: QuerySet) -> None:
        copies = [persona_duplicate(persona=p) for p in self._system_only(request, queryset)]
        self.message_user(
            request,
            ngettext(
                "Made %d inactive copy; edit and activate it when ready.",
                "Made %d inactive copies; edit and activate them when ready.",
                len(copies),
            )
            % len(copies),
        )
