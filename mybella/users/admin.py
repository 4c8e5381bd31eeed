from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from mybella.users.models import User, UserSettings


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
