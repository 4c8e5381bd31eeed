from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "mybella.users"
    label = "users"
