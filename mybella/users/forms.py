from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from mybella.users.models import User
from mybella.users.services import PROFILE_FIELDS


class SignUpForm(UserCreationForm):
    email = forms.EmailField(
        label=_("Email"), required=False, help_text=_("Optional; only used to reset your password.")
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password


class ProfileForm(forms.Form):
    """The profile fields, with the model's labels and limits; `user_update_profile` saves them.

    A plain form rather than a `ModelForm`: validating one would change the signed-in user
    in memory before the service compares what changed.
    """

    password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed only to change your email address, where password resets go."),
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        password = self.fields.pop("password")
        self.fields |= fields_for_model(User, fields=PROFILE_FIELDS)
        self.fields["password"] = password  # after the email it guards

    def clean(self) -> dict:
        """Ask for the current password when the email address changes.

        Password reset links go to that address: a session left open must not be enough to
        send them somewhere else and take the account for good.
        """
        cleaned = super().clean()
        email = cleaned.get("email")
        changed = email is not None and email != self.user.email
        if changed and not self.user.check_password(cleaned.get("password") or ""):
            self.add_error(
                "password", _("Enter your current password to change your email address.")
            )
        cleaned.pop("password", None)
        return cleaned

    def changes_email(self) -> bool:
        """Return whether the posted email differs from the account's (before validation)."""
        return self.data.get(self.add_prefix("email"), self.user.email) != self.user.email


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("What will use this token, e.g. “my laptop”."),
    )
