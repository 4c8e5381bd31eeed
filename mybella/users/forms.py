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

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields |= fields_for_model(User, fields=PROFILE_FIELDS)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("What will use this token, e.g. “my laptop”."),
    )
