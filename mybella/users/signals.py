from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from mybella.users.models import User, UserSettings


@receiver(post_save, sender=User, dispatch_uid="users.create_settings")
def create_settings(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    """Give every new user, however created (sign-up, admin, shell), a settings row."""
    if created and not kwargs.get("raw"):
        UserSettings.objects.get_or_create(user=instance)
