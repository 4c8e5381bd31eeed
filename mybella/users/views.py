from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, UpdateView

from mybella.users.forms import DeleteAccountForm, ProfileForm, SignUpForm
from mybella.users.models import User
from mybella.users.services import user_create, user_delete
from personas.selectors import persona_list_system


def home(request: HttpRequest) -> HttpResponse:
    """Send people who are signed in to their chat; welcome everybody else."""
    if request.user.is_authenticated:
        return redirect("chat:page")
    return render(request, "home.html", {"personas": persona_list_system()})


class SignUpView(FormView):
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


class DeleteAccountView(LoginRequiredMixin, FormView):
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


class ProfileView(LoginRequiredMixin, SuccessMessageMixin, UpdateView):
    template_name = "users/profile.html"
    form_class = ProfileForm
    success_url = reverse_lazy("users:profile")
    success_message = _("Your profile is saved.")
    extra_context = {"settings_section": "profile"}

    def get_object(self, queryset: object = None) -> User:
        return self.request.user
