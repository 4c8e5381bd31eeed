from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from mybella.users import views

app_name = "users"

urlpatterns = [
    path("signup/", views.SignUpView.as_view(), name="signup"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("profile/delete/", views.DeleteAccountView.as_view(), name="delete_account"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            success_url=reverse_lazy("users:password_change_done"),
            extra_context={"settings_section": "password"},
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(extra_context={"settings_section": "password"}),
        name="password_change_done",
    ),
]
