from django.apps import AppConfig


class VoicesConfig(AppConfig):
    name = "voices"

    def ready(self) -> None:
        from voices import account, receivers  # noqa: F401
