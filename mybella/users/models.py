import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person using MyBella."""

    display_name = models.CharField(
        _("what personas call you"),
        max_length=80,
        blank=True,
        help_text=_(
            "Leave empty to be called by your username if it is a plain name "
            "(letters only), else by no name."
        ),
    )

    def __str__(self) -> str:
        return self.username

    def save(self, *args: object, **kwargs: object) -> None:
        # set_password() leaves the new password in _password until the save, wherever it
        # is called (the password pages, the admin, a shell, a management command); a
        # hasher upgrade on log-in clears it first, as it is the same password.
        password_changed = self._password is not None or getattr(self, "_password_unset", False)
        new = self._state.adding
        with transaction.atomic():
            super().save(*args, **kwargs)
            if password_changed and not new:
                # Sessions end through the session auth hash; tokens must end here.
                ApiToken.objects.filter(user=self).delete()
        self._password_unset = False

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_unset = True

    @property
    def given_name(self) -> str:
        """Return the name the user gave their account (display name, else first name), or ""."""
        return self.display_name or self.first_name

    @property
    def preferred_name(self) -> str:
        """Return what personas call the user: the name they gave, else their username if a name.

        Empty when they gave none and the username is a handle ("newbie20682", "tom_b"):
        prompts then name nobody and card macros say "you", rather than a persona asking
        "What made you think of it, newbie20682?". A username read as a name ("alice") fills
        the model's prompt and card macros only: the offline engine's own lines call the
        user only by a name they gave (`chat.prompts.prompt_build`).
        """
        return self.given_name or name_from_username(self.username)


def name_from_username(username: str) -> str:
    """Return `username` as a name if it reads as one (letters only, in any script), else "".

    One written all in lower or all in upper case gets a capital first letter only.
    """
    if len(username) < 2 or not username.isalpha():
        return ""
    if username.islower() or username.isupper():
        return username[0].upper() + username[1:].lower()
    return username


class ApiToken(models.Model):
    """An API key of one user, for one device: only its hash is kept, and it expires.

    The key itself is shown once, when it is made; `prefix` (its first characters) lets
    people tell their keys apart. Changing the password deletes them all (`User.save`).
    """

    PREFIX_LENGTH = 10

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(
        _("name"),
        max_length=100,
        blank=True,
        help_text=_("What uses this token, e.g. “my laptop”."),
    )
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, editable=False)
    digest = models.CharField(_("SHA-256 of the key"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}".rstrip()

    @staticmethod
    def hash(key: str) -> str:
        """Return the digest stored for `key` (keys are random: a fast hash is enough)."""
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
