"""A provider's failure is an UpstreamError: services may catch it, and the API answers it.

The views below call the real engines against the fake servers and let the error escape,
as a service without its own handling would; the core API handler answers it.
"""

import pytest
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mybella.core.errors import UpstreamError
from mybella.providers.llm import Prompt, ProviderError, get_provider
from mybella.providers.speech import SpeechError, VoiceChoice, VoiceSettings, get_engine


class ReplyView(APIView):
    """Answer with the model's reply; a failing model raises ProviderError out of the view."""

    def post(self, request: Request) -> Response:
        prompt = Prompt(
            messages=[{"role": "user", "content": "Hi"}], persona_name="Bella", user_message="Hi"
        )
        return Response({"reply": get_provider().reply(prompt)})


class SpeakView(APIView):
    """Speak a line; a failing engine raises SpeechError out of the view."""

    def post(self, request: Request) -> Response:
        voice = VoiceChoice("default", "21m00Tcm4TlvDq8ikWAM")
        audio = get_engine().synthesize("Hi", voice, VoiceSettings())
        return Response({"bytes": len(audio.content)})


urlpatterns = [
    path("api/v1/test-provider/reply/", ReplyView.as_view()),
    path("api/v1/test-provider/speak/", SpeakView.as_view()),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def test_provider_and_speech_errors_are_upstream_errors():
    """Both keep their constructors (SpeechError's status is positional) and their fields."""
    model = ProviderError("The model is busy.", status_code=503, retry_after=7)
    speech = SpeechError("ElevenLabs is busy.", 429, 5, retryable=True, reason="system_busy")
    assert isinstance(model, UpstreamError) and isinstance(speech, UpstreamError)
    assert (model.message, model.status_code, model.retry_after) == ("The model is busy.", 503, 7)
    assert (speech.message, speech.status_code, speech.retry_after) == (
        "ElevenLabs is busy.",
        429,
        5,
    )
    assert (speech.retryable, speech.reason) == (True, "system_busy")
    assert str(speech) == "ElevenLabs is busy."


def test_a_busy_model_answers_503_with_retry_after(auth_api_client, fake_llm):
    fake_llm.fail_next(429, headers={"Retry-After": "7"})
    response = auth_api_client.post("/api/v1/test-provider/reply/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "7"
    assert response.json() == {"detail": "The model is busy right now; try again in a moment."}


def test_a_broken_model_answers_502_without_retry_after(auth_api_client, fake_llm):
    fake_llm.fail_next(500)
    response = auth_api_client.post("/api/v1/test-provider/reply/")
    assert response.status_code == 502
    assert "Retry-After" not in response
    assert response.json() == {"detail": "The model server had a problem."}


def test_a_busy_speech_engine_answers_429_with_retry_after(auth_api_client, fake_elevenlabs):
    fake_elevenlabs.fail_next("system_busy", headers={"Retry-After": "12"})
    response = auth_api_client.post("/api/v1/test-provider/speak/")
    assert response.status_code == 429
    assert response["Retry-After"] == "12"
    assert response.json() == {
        "detail": "ElevenLabs is busy right now; try again in a few seconds."
    }


def test_a_speech_engine_timeout_answers_504(auth_api_client, fake_elevenlabs, settings):
    settings.ELEVENLABS_TIMEOUT = 0.3
    fake_elevenlabs.stall_next(1.5)
    response = auth_api_client.post("/api/v1/test-provider/speak/")
    assert response.status_code == 504
    assert "Retry-After" not in response
    assert response.json() == {"detail": "ElevenLabs took too long to answer."}
