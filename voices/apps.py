from django.apps import AppConfig


class VoicesConfig(AppConfig):
    name = "voices"

    def ready(self) -> None:
        from voices import account, card_voice, persona_section, receivers  # noqa: F401
