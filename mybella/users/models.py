from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from mybella.core.models import BaseModel


class User(AbstractUser):
    """A person using MyBella."""

    display_name = models.CharField(
        _("what personas call you"),
        max_length=80,
        blank=True,
        help_text=_("Leave empty to be called by your username."),
    )

    def __str__(self) -> str:
        return self.username

    @property
    def preferred_name(self) -> str:
        return self.display_name or self.first_name or self.username


class UserSettings(BaseModel):
    """Per-user settings; one row per user, created with the user."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="settings", verbose_name=_("user")
    )
    current_persona = models.ForeignKey(
        "personas.PersonaProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current persona"),
        help_text=_("The persona this user is talking to; empty means the default persona."),
    )

    class Meta:
        verbose_name = _("user settings")
        verbose_name_plural = _("user settings")

    def __str__(self) -> str:
        return f"Settings of {self.user}"
