from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mybella.core"
    label = "core"

    def ready(self) -> None:
        from mybella.core import checks  # noqa: F401 - registers the system checks
