import factory
from django.core.files.base import ContentFile

from personas.tests.factories import UserFactory
from voices.models import CustomVoice, PersonaVoice, VoicePreset
from voices.tests.audio_files import wav_bytes


class VoicePresetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VoicePreset

    provider_voice_id = factory.Sequence(lambda n: f"preset{n:04d}")
    name = factory.Sequence(lambda n: f"Preset {n}")
    labels = factory.LazyFunction(lambda: {"gender": "male", "accent": "american"})


class CustomVoiceFactory(factory.django.DjangoModelFactory):
    """A user's cloned voice; ready by default, with a WAV sample on storage."""

    class Meta:
        model = CustomVoice

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"My voice {n}")
    format = "wav"
    content_type = "audio/wav"
    duration = 12.0
    size = factory.LazyAttribute(lambda voice: voice.sample.size)
    sha256 = "0" * 64
    sample = factory.LazyFunction(lambda: ContentFile(wav_bytes(12), name="sample.wav"))
    status = CustomVoice.Status.READY
    provider_voice_id = factory.Sequence(lambda n: f"cloned{n:04d}")


class PersonaVoiceFactory(factory.django.DjangoModelFactory):
    """A persona's voice row; `persona` is required (`PersonaVoiceFactory(persona=...)`)."""

    class Meta:
        model = PersonaVoice
        django_get_or_create = ["persona"]
