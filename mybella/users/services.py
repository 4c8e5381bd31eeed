"""Writes of accounts."""

from django.db import transaction

from mybella.users.models import User, UserSettings


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "") -> User:
    """Create an account with its settings row."""
    user = User.objects.create_user(username=username, email=email, password=password)
    UserSettings.objects.get_or_create(user=user)
    return user
