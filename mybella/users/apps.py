from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "mybella.users"
    label = "users"

    def ready(self) -> None:
        from mybella.users import signals  # noqa: F401
