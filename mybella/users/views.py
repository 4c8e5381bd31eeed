from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView

from mybella.core.forms import add_domain_error
from mybella.core.throttles import AuthAttempt, Limited, auth_attempt, password_reset_attempt
from mybella.users.forms import ApiTokenForm, DeleteAccountForm, ProfileForm, SignUpForm
from mybella.users.selectors import api_token_list
from mybella.users.services import (
    PROFILE_FIELDS,
    api_token_create,
    api_token_revoke,
    user_create,
    user_delete,
    user_update_profile,
)


class InvalidFormIs400Mixin:
    """An invalid form answers 400 (the form again, with its errors), as every page's form does."""

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class LoginView(InvalidFormIs400Mixin, auth_views.LoginView):
    """Django's log-in page; a wrong password or a blank field is a 400."""


class SignUpView(InvalidFormIs400Mixin, FormView):
    template_name = "registration/signup.html"
    form_class = SignUpForm
    success_url = reverse_lazy("personas:settings")

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect(self.success_url)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: SignUpForm) -> HttpResponse:
        user = user_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data.get("email", ""),
            password=form.cleaned_data["password1"],
        )
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(self.request, _("Welcome to MyBella! Pick someone to talk to."))
        return super().form_valid(form)


class PasswordResetView(InvalidFormIs400Mixin, auth_views.PasswordResetView):
    """Django's "email me a reset link" page, limited per client and per email address.

    The answer is the same whether or not an account has the address (Django sends mail
    only to accounts that have it), and so is the limit.
    """

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("users:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        try:
            password_reset_attempt(self.request, email=form.cleaned_data["email"])
        except Limited as limited:
            messages.error(self.request, limited.message)
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(limited.wait)
            return response
        return super().form_valid(form)


class PasswordGuessLimitMixin:
    """Count a form POST that checks the signed-in user's password as a sign-in attempt.

    Whoever holds a session (a shared computer, a stolen cookie) must not be able to guess
    the account's password through a form that asks for it: each POST counts against the
    client address (`THROTTLE_AUTH`) and, until the password turns out right, against the
    account (`THROTTLE_AUTH_ACCOUNT`), the counters the log-in page uses. Over a limit the
    form is shown again, unprocessed, with a note: 429 with Retry-After.
    """

    checked_field = "password"  # the field holding the current password
    _attempt: AuthAttempt | None = None

    def checks_password(self) -> bool:
        """Return whether this POST asks for the password (always, unless a view says)."""
        return True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not self.checks_password():
            return super().post(request, *args, **kwargs)
        try:
            self._attempt = auth_attempt(request, username=request.user.get_username())
        except Limited as limited:
            messages.error(request, limited.message)
            request.method = "GET"  # show the form again; the POST is never looked at
            response = self.get(request, *args, **kwargs)
            response.status_code = 429
            response["Retry-After"] = str(limited.wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: forms.Form) -> HttpResponse:
        self._password_was_right()
        return super().form_valid(form)

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        if self.checked_field not in form.errors:  # right password, another field wrong
            self._password_was_right()
        return super().form_invalid(form)

    def _password_was_right(self) -> None:
        if self._attempt is not None:
            self._attempt.succeeded()
            self._attempt = None


class PasswordChangeView(
    InvalidFormIs400Mixin, PasswordGuessLimitMixin, auth_views.PasswordChangeView
):
    """Django's password change page; wrong current passwords count as failed sign-ins."""

    checked_field = "old_password"
    success_url = reverse_lazy("users:password_change_done")
    extra_context = {"settings_section": "password"}


class DeleteAccountView(
    LoginRequiredMixin, InvalidFormIs400Mixin, PasswordGuessLimitMixin, FormView
):
    template_name = "users/delete_account.html"
    form_class = DeleteAccountForm
    extra_context = {"settings_section": "profile"}

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form: DeleteAccountForm) -> HttpResponse:
        user_delete(user=self.request.user)
        logout(self.request)
        messages.success(self.request, _("Your account and everything in it are deleted."))
        return redirect("home")


class ProfileView(LoginRequiredMixin, InvalidFormIs400Mixin, PasswordGuessLimitMixin, FormView):
    """The profile; changing the email address asks for the password, counted as a sign-in."""

    template_name = "users/profile.html"
    form_class = ProfileForm
    success_url = reverse_lazy("users:profile")
    extra_context = {"settings_section": "profile"}

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def checks_password(self) -> bool:
        # A blank password is no guess: the form asks for it without counting anything.
        return self.get_form().changes_email() and bool(self.request.POST.get("password"))

    def get_initial(self) -> dict:
        return {name: getattr(self.request.user, name) for name in PROFILE_FIELDS}

    def get_context_data(self, **kwargs: object) -> dict:
        kwargs.setdefault("token_form", ApiTokenForm())
        return super().get_context_data(
            api_tokens=api_token_list(user=self.request.user),
            api_token_ttl_days=settings.API_TOKEN_TTL_DAYS,
            **kwargs,
        )

    def form_valid(self, form: ProfileForm) -> HttpResponse:
        try:
            user_update_profile(user=self.request.user, data=form.cleaned_data)
        except ValidationError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Your profile is saved."))
        return super().form_valid(form)


class ApiTokenCreateView(ProfileView):
    """Make an API token from the profile page and show its key, this once."""

    http_method_names = ["post"]

    def get_form_kwargs(self) -> dict:
        # The profile form is shown as saved, not bound to this other form's POST.
        return {
            "initial": self.get_initial(),
            "prefix": self.get_prefix(),
            "user": self.request.user,
        }

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        token_form = ApiTokenForm(request.POST)
        if token_form.is_valid():
            try:
                _token, key = api_token_create(
                    user=request.user, name=token_form.cleaned_data["name"]
                )
            except ValidationError as error:
                token_form.add_error(None, error)
            else:
                # Rendered, not redirected: the key must not be kept anywhere to show later.
                return self.render_to_response(self.get_context_data(new_token=key))
        response = self.render_to_response(self.get_context_data(token_form=token_form))
        response.status_code = 400
        return response


class ApiTokenRevokeView(LoginRequiredMixin, View):
    """Revoke one of your API tokens; another user's is a 404."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(api_token_list(user=request.user), pk=pk)
        api_token_revoke(token=token)
        messages.success(request, _("The token %(prefix)s… is revoked.") % {"prefix": token.prefix})
        return redirect("users:profile")
