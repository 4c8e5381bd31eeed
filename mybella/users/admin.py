from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from mybella.users.models import ApiToken, User, UserSettings


class UserSettingsInline(admin.StackedInline):
    model = UserSettings
    can_delete = False
    autocomplete_fields = ["current_persona"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [UserSettingsInline]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("MyBella"), {"fields": ["display_name"]}),
    ]
    list_display = ["username", "email", "display_name", "is_staff", "date_joined"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff can see whose tokens exist and revoke one; keys are never stored, so never shown."""

    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["prefix", "name", "user__username"]
    readonly_fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at"]
    fields = readonly_fields

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
