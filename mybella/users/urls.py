from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from mybella.core.throttles import rate_limit_auth
from mybella.users import views

app_name = "users"

urlpatterns = [
    path("signup/", rate_limit_auth(views.SignUpView.as_view(), signup=True), name="signup"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("profile/tokens/", views.ApiTokenCreateView.as_view(), name="api_token_create"),
    path(
        "profile/tokens/<int:pk>/revoke/",
        views.ApiTokenRevokeView.as_view(),
        name="api_token_revoke",
    ),
    path("profile/delete/", views.DeleteAccountView.as_view(), name="delete_account"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(extra_context={"settings_section": "password"}),
        name="password_change_done",
    ),
    # Password reset by email: Django's own views, with our templates and limits.
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        rate_limit_auth(
            auth_views.PasswordResetConfirmView.as_view(
                success_url=reverse_lazy("users:password_reset_complete")
            )
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
