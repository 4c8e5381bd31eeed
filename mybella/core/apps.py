from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mybella.core"
    label = "core"
