from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from mybella.core.admin import BoundedSearchAdmin
from mybella.users.models import ApiToken, User

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BoundedSearchAdmin, DjangoGroupAdmin):
    pass


@admin.register(User)
class UserAdmin(BoundedSearchAdmin, DjangoUserAdmin):
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("MyBella"), {"fields": ["display_name"]}),
    ]
    list_display = ["username", "email", "display_name", "is_staff", "date_joined"]


@admin.register(ApiToken)
class ApiTokenAdmin(BoundedSearchAdmin):
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
