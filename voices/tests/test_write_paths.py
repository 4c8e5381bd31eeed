"""Every view of the voices app that writes does so through a service.

Each writing view (page, API, admin) is requested once; the request must count at least
one `@service` call (`mybella.core.services.service_calls`). A view that wrote by itself,
bypassing the services, would count none.
"""

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mybella.core.services import service_calls
from personas.tests.factories import PersonaFactory
from voices.models import CustomVoice, PersonaVoice, SpeechClip, VoicePreset
from voices.tests.audio_files import wav_bytes
from voices.tests.factories import CustomVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db
FAILED = CustomVoice.Status.FAILED


def _sample() -> SimpleUploadedFile:
    return SimpleUploadedFile("me.wav", wav_bytes(12), content_type="audio/wav")


def page_upload(c) -> tuple:
    response = c.page.post(reverse("voices:upload"), {"name": "Me", "sample": _sample()})
    return response, 302, lambda: CustomVoice.objects.filter(name="Me").exists()


def page_retry(c) -> tuple:
    voice = CustomVoiceFactory(owner=c.user, status=FAILED, provider_voice_id="")
    response = c.page.post(reverse("voices:retry", args=[voice.pk]))
    return response, 302, lambda: CustomVoice.objects.get(pk=voice.pk).status != FAILED


def page_delete(c) -> tuple:
    voice = CustomVoiceFactory(owner=c.user)
    response = c.page.post(reverse("voices:delete", args=[voice.pk]))
    return response, 302, lambda: not CustomVoice.objects.filter(pk=voice.pk).exists()


def api_create(c) -> tuple:
    data = {"name": "Me", "sample": _sample()}
    response = c.api.post(reverse("api:custom-voice-list"), data, format="multipart")
    return response, 201, lambda: CustomVoice.objects.filter(name="Me").exists()


def api_retry(c) -> tuple:
    voice = CustomVoiceFactory(owner=c.user, status=FAILED, provider_voice_id="")
    response = c.api.post(reverse("api:custom-voice-retry", args=[voice.pk]))
    return response, 200, lambda: CustomVoice.objects.get(pk=voice.pk).status != FAILED


def api_delete(c) -> tuple:
    voice = CustomVoiceFactory(owner=c.user)
    response = c.api.delete(reverse("api:custom-voice-detail", args=[voice.pk]))
    return response, 204, lambda: not CustomVoice.objects.filter(pk=voice.pk).exists()


def api_persona_voice(c) -> tuple:
    persona = PersonaFactory(owner=c.user)
    url = reverse("api:persona-voice", kwargs={"persona_id": persona.pk})
    response = c.api.put(url, {"speed": 0.8}, format="json")
    return response, 200, PersonaVoice.objects.filter(persona=persona, speed=0.8).exists


def api_speak(c) -> tuple:
    persona = PersonaFactory(owner=c.user)
    url = reverse("api:persona-speak", kwargs={"persona_id": persona.pk})
    response = c.api.post(url, {"text": "Hello"}, format="json")
    return response, 200, SpeechClip.objects.exists  # speech is cached


def api_preview(c) -> tuple:
    preset = VoicePresetFactory(provider_voice_id="premade0001")
    response = c.api.get(reverse("api:voice-preset-preview", args=[preset.pk]))
    return response, 200, SpeechClip.objects.exists


def _admin_action(action: str, active: bool) -> Callable:
    def request(c) -> tuple:
        preset = VoicePresetFactory(is_active=not active)
        url = reverse("admin:voices_voicepreset_changelist")
        response = c.admin.post(url, {"action": action, "_selected_action": [preset.pk]})
        return response, 302, lambda: VoicePreset.objects.get(pk=preset.pk).is_active is active

    return request


def admin_add(c) -> tuple:
    data = {"provider": "elevenlabs", "provider_voice_id": "new1", "name": "New", "labels": "{}"}
    data["is_active"] = "on"
    response = c.admin.post(reverse("admin:voices_voicepreset_add"), data)
    return response, 302, lambda: VoicePreset.objects.filter(provider_voice_id="new1").exists()


def admin_change(c) -> tuple:
    preset = VoicePresetFactory()
    data = {"provider": "elevenlabs", "provider_voice_id": preset.provider_voice_id}
    data |= {"name": "Renamed", "labels": "{}", "is_active": "on"}
    response = c.admin.post(reverse("admin:voices_voicepreset_change", args=[preset.pk]), data)
    return response, 302, lambda: VoicePreset.objects.get(pk=preset.pk).name == "Renamed"


def admin_delete(c) -> tuple:
    preset = VoicePresetFactory()
    url = reverse("admin:voices_voicepreset_delete", args=[preset.pk])
    response = c.admin.post(url, {"post": "yes"})
    return response, 302, lambda: not VoicePreset.objects.filter(pk=preset.pk).exists()


def admin_delete_selected(c) -> tuple:
    preset = VoicePresetFactory()
    url = reverse("admin:voices_voicepreset_changelist")
    data = {"action": "delete_selected", "_selected_action": [preset.pk], "post": "yes"}
    response = c.admin.post(url, data)
    return response, 302, lambda: not VoicePreset.objects.filter(pk=preset.pk).exists()


WRITING_VIEWS = [
    page_upload,
    page_retry,
    page_delete,
    api_create,
    api_retry,
    api_delete,
    api_persona_voice,
    api_speak,
    api_preview,
    pytest.param(_admin_action("activate", True), id="admin_activate"),
    pytest.param(_admin_action("deactivate", False), id="admin_deactivate"),
    admin_add,
    admin_change,
    admin_delete,
    admin_delete_selected,
]


class Clients:
    def __init__(self, user, page, api, admin) -> None:
        self.user, self.page, self.api, self.admin = user, page, api, admin


@pytest.fixture
def clients(user, client, auth_api_client, admin_client) -> Clients:
    client.force_login(user)
    return Clients(user, client, auth_api_client, admin_client)


@pytest.mark.parametrize("request_view", WRITING_VIEWS)
def test_each_writing_view_calls_a_service(
    request_view, clients, fake_elevenlabs, django_capture_on_commit_callbacks
):
    before = service_calls()
    with django_capture_on_commit_callbacks(execute=True):
        response, status, wrote = request_view(clients)
    assert response.status_code == status, getattr(response, "content", b"")[:500]
    assert wrote(), "the request changed nothing"
    assert service_calls() > before, "the view wrote without calling a service"
