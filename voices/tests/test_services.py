"""Cloned voices, a persona's voice, the speech cache and the cloning task."""

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mybella.core.errors import NotFound
from mybella.providers.speech import SpeechError
from mybella.providers.speech.elevenlabs import ElevenLabsEngine
from mybella.tests.fakes.fake_elevenlabs import API_KEY
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from voices import selectors, services, tasks
from voices.models import CustomVoice, PersonaVoice, SpeechClip, VoicePreset
from voices.services import speech
from voices.tests.audio_files import wav_bytes
from voices.tests.factories import CustomVoiceFactory, PersonaVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db
Status = CustomVoice.Status
CLONE_TASK = "voices.tasks.clone_custom_voice"
DELETE_TASK = "voices.tasks.delete_provider_voice"


def media_files(settings) -> list[str]:
    """Return the files stored for the test: all private, none in public media."""
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).iterdir())
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def upload(data: bytes | None = None, name: str = "voice.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, wav_bytes(12) if data is None else data, "audio/wav")


def rolled_back(action: Callable[[], object]) -> None:
    """Run `action` in a transaction that is then rolled back."""
    with transaction.atomic():
        action()
        raise RuntimeError("rolled back")


@pytest.fixture
def create_voice(django_capture_on_commit_callbacks):
    """Create a voice through the service and run what it queues (the clone task)."""

    def _create(owner, name: str = "My voice", data: bytes | None = None) -> CustomVoice:
        with django_capture_on_commit_callbacks(execute=True):
            voice = services.custom_voice_create(owner=owner, name=name, upload=upload(data))
        voice.refresh_from_db()
        return voice

    return _create


# Creating cloned voices -----------------------------------------------------------------


def test_create_stores_the_sample_under_a_random_name_and_clones(
    user, fake_elevenlabs, create_voice, settings
):
    """The sample is stored as checked; the clone task makes the voice ready."""
    data = wav_bytes(12)
    voice = create_voice(user, "Grandma", data)
    assert (voice.status, voice.provider_voice_id, voice.attempts) == (
        Status.READY,
        "cloned0001",
        1,
    )
    assert (voice.format, voice.content_type, voice.size, voice.duration) == (
        "wav",
        "audio/wav",
        len(data),
        12.0,
    )
    assert voice.sample.name.startswith("voice-samples/") and "voice" not in voice.sample.name[14:]
    assert media_files(settings) == [voice.sample.name]
    [(_, name, files)] = fake_elevenlabs.cloned
    assert name == f"Grandma (MyBella {voice.pk})"
    assert files == [("sample.wav", data, "audio/wav")]


def test_without_a_key_the_voice_waits_and_is_not_counted(
    user, settings, create_voice, queued_tasks
):
    """No ElevenLabs key: the sample is kept as waiting, nothing is queued, and it doesn't
    count against the limit (waiting recordings have their own, equal, limit)."""
    settings.CUSTOM_VOICES_MAX_PER_USER = 1
    CustomVoiceFactory(owner=user, name="Ready one", status=Status.READY)
    voice = create_voice(user, "Later")
    assert (voice.status, voice.error, voice.attempts) == (Status.WAITING, "", 0)
    assert queued_tasks(CLONE_TASK) == []
    with pytest.raises(ValidationError, match="at most 1 recordings waiting for a key"):
        services.custom_voice_create(owner=user, name="Another", upload=upload())


def test_waiting_voices_clone_once_a_key_is_set(
    user, other_user, settings, fake_elevenlabs, django_capture_on_commit_callbacks
):
    """`manage.py clone_waiting_voices` queues them once there is a key; they clone."""
    settings.ELEVENLABS_API_KEY = ""
    with django_capture_on_commit_callbacks(execute=True):
        waiting = services.custom_voice_create(owner=user, name="Later", upload=upload())
    assert selectors.custom_voice_status(pk=waiting.pk) == Status.WAITING
    out = io.StringIO()
    call_command("clone_waiting_voices", stdout=out)
    assert "keep waiting" in out.getvalue()
    assert selectors.custom_voice_status(pk=waiting.pk) == Status.WAITING

    settings.ELEVENLABS_API_KEY = API_KEY
    with django_capture_on_commit_callbacks(execute=True):
        call_command("clone_waiting_voices", stdout=out)
    assert "Queued 1 waiting voices" in out.getvalue()
    waiting.refresh_from_db()
    assert (waiting.status, waiting.provider_voice_id) == (Status.READY, "cloned0001")


def test_waiting_voices_clone_only_while_their_owner_has_room(
    user, settings, fake_elevenlabs, queued_tasks
):
    """The oldest waiting voices are queued up to the limit; the rest keep waiting."""
    settings.CUSTOM_VOICES_MAX_PER_USER = 2
    CustomVoiceFactory(owner=user, name="Ready", status=Status.READY)
    first = CustomVoiceFactory(owner=user, name="First", status=Status.WAITING)
    second = CustomVoiceFactory(owner=user, name="Second", status=Status.WAITING)
    CustomVoice.objects.filter(pk=second.pk).update(created_at=timezone.now() + timedelta(1))
    assert services.custom_voices_queue_waiting() == 1
    assert selectors.custom_voice_status(pk=first.pk) == Status.PENDING
    assert selectors.custom_voice_status(pk=second.pk) == Status.WAITING


def test_a_key_gone_before_cloning_puts_the_voice_back_to_waiting(user):
    """Queued with a key that was then removed: the task leaves it waiting, not failed."""
    voice = CustomVoiceFactory(owner=user, status=Status.PENDING, provider_voice_id="")
    assert tasks.clone_custom_voice.call(voice.pk) == Status.WAITING
    voice.refresh_from_db()
    assert (voice.status, voice.error, voice.attempts) == (Status.WAITING, "", 0)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "v.wav", "empty"),
        (b"not audio at all " * 100, "v.mp3", "not an audio file"),
        (wav_bytes(4), "v.wav", "at least 10"),
        (wav_bytes(12), "v.mp3", "says .mp3 but it is a WAV"),
        (wav_bytes(12) + b"<script>", "v.wav", "something other than audio"),
    ],
)
def test_a_refused_sample_stores_nothing(user, settings, data, name, message):
    with pytest.raises(ValidationError) as caught:
        services.custom_voice_create(owner=user, name="V", upload=upload(data, name))
    assert message in caught.value.message_dict["sample"][0]
    assert media_files(settings) == []
    assert not CustomVoice.objects.exists()


def test_limit_and_unique_names(user, other_user, settings, fake_elevenlabs, create_voice):
    """Names are unique per owner (any case); each user has CUSTOM_VOICES_MAX_PER_USER."""
    settings.CUSTOM_VOICES_MAX_PER_USER = 2
    create_voice(user, "Calm")
    with pytest.raises(ValidationError, match="already have a voice named"):
        services.custom_voice_create(owner=user, name=" calm ", upload=upload())
    create_voice(other_user, "Calm")
    create_voice(user, "Second")
    with pytest.raises(ValidationError, match="at most 2 custom voices"):
        services.custom_voice_create(owner=user, name="Third", upload=upload())
    assert len(media_files(settings)) == 3


def test_a_name_longer_than_the_model_allows_is_refused(user, settings):
    """The service checks the model's rules itself (name ≤ 80), whatever the adapter did."""
    with pytest.raises(ValidationError) as caught:
        services.custom_voice_create(owner=user, name="x" * 81, upload=upload())
    assert "at most 80 characters" in caught.value.message_dict["name"][0]
    assert media_files(settings) == []
    assert not CustomVoice.objects.exists()
    voice = services.custom_voice_create(owner=user, name="x" * 80, upload=upload())
    assert voice.name == "x" * 80


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("evil\u202etxt.exe", "invisible control character (U+202E)"),
        ("two\nlines", "line break"),
        ("a\x00b", "NUL"),
        ("\u200b\u3164", "Give the voice a name"),
    ],
)
def test_a_name_that_is_not_one_line_is_refused(user, settings, name, problem):
    """A voice's name is one line of plain text, as a persona's is (`limits.line_problem`)."""
    with pytest.raises(ValidationError) as caught:
        services.custom_voice_create(owner=user, name=name, upload=upload())
    assert problem in caught.value.message_dict["name"][0]
    assert media_files(settings) == []
    assert not CustomVoice.objects.exists()


def test_cloning_is_queued_once_committed(
    user, settings, queued_tasks, django_capture_on_commit_callbacks
):
    """The clone task is queued when the upload commits, and not at all on a rollback."""
    settings.ELEVENLABS_API_KEY = "a-key"
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        rolled_back(lambda: services.custom_voice_create(owner=user, name="Gone", upload=upload()))
    assert queued_tasks(CLONE_TASK) == []
    with django_capture_on_commit_callbacks() as on_commit:
        voice = services.custom_voice_create(owner=user, name="Kept", upload=upload())
    assert queued_tasks(CLONE_TASK) == []  # not committed yet
    for callback in on_commit:
        callback()
    assert queued_tasks(CLONE_TASK) == [{"args": [voice.pk], "kwargs": {}}]


# The cloning task -----------------------------------------------------------------------


def test_unreadable_request_fails_with_the_reason(user, fake_elevenlabs, create_voice):
    """A sample ElevenLabs refuses fails at once, with ElevenLabs' reason."""
    fake_elevenlabs.fail_next("unprocessable")
    voice = create_voice(user)
    assert voice.status == Status.FAILED
    assert voice.error == "ElevenLabs refused the request: The sample is too noisy."
    assert voice.attempts == 1


@pytest.mark.parametrize("failure", ["too_many_concurrent_requests", "server_error", "stall"])
def test_busy_and_broken_answers_are_retried(
    user, fake_elevenlabs, create_voice, settings, failure
):
    """429, 5xx and timeouts go back to pending and are tried again."""
    settings.ELEVENLABS_TIMEOUT = 0.3
    if failure == "stall":
        fake_elevenlabs.stall_next(1.5)
    else:
        fake_elevenlabs.fail_next(failure)
    voice = create_voice(user)
    assert (voice.status, voice.attempts, voice.error) == (Status.READY, 2, "")


def test_gives_up_after_max_attempts(user, fake_elevenlabs, create_voice):
    fake_elevenlabs.fail_next("server_error", times=5)
    voice = create_voice(user)
    assert (voice.status, voice.attempts) == (Status.FAILED, tasks.MAX_ATTEMPTS)
    assert "had a problem" in voice.error
    assert fake_elevenlabs.counts["POST /v1/voices/add"] == tasks.MAX_ATTEMPTS


def test_quota_is_not_retried(user, fake_elevenlabs, create_voice):
    fake_elevenlabs.fail_next("quota_exceeded")
    voice = create_voice(user)
    assert (voice.status, voice.attempts) == (Status.FAILED, 1)
    assert "quota" in voice.error


def test_running_twice_clones_once(user, fake_elevenlabs, create_voice):
    """Only a pending voice is cloned: the task is safe to run again."""
    voice = create_voice(user)
    assert tasks.clone_custom_voice.call(voice.pk) == Status.READY
    failed = CustomVoiceFactory(owner=user, status=Status.FAILED, provider_voice_id="")
    assert tasks.clone_custom_voice.call(failed.pk) == Status.FAILED
    assert tasks.clone_custom_voice.call(999_999) == "deleted"
    assert fake_elevenlabs.counts["POST /v1/voices/add"] == 1


def test_a_stale_claim_is_taken_over(user, fake_elevenlabs):
    """A voice left "cloning" by a worker that died is cloned by the next run."""
    voice = CustomVoiceFactory(owner=user, status=Status.CLONING, provider_voice_id="")
    assert tasks.clone_custom_voice.call(voice.pk) == Status.CLONING  # fresh: someone's on it
    CustomVoice.objects.filter(pk=voice.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert tasks.clone_custom_voice.call(voice.pk) == Status.READY


def test_deleted_while_cloning_leaves_no_voice_at_elevenlabs(user, fake_elevenlabs, monkeypatch):
    voice = CustomVoiceFactory(owner=user, status=Status.PENDING, provider_voice_id="")
    original = ElevenLabsEngine.clone

    def clone_then_vanish(self, *args):
        voice_id = original(self, *args)
        CustomVoice.objects.filter(pk=voice.pk).delete()
        return voice_id

    monkeypatch.setattr(ElevenLabsEngine, "clone", clone_then_vanish)
    assert tasks.clone_custom_voice.call(voice.pk) == "deleted"
    assert fake_elevenlabs.counts["DELETE /v1/voices/cloned0001"] == 1


def test_retry_after_failure(
    user, fake_elevenlabs, create_voice, django_capture_on_commit_callbacks
):
    """A failed voice can be tried again and then becomes ready; others can't be retried."""
    fake_elevenlabs.fail_next("unprocessable")
    voice = create_voice(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.custom_voice_retry(voice=voice, user=user)
    voice.refresh_from_db()
    assert (voice.status, voice.attempts, voice.error) == (Status.READY, 1, "")
    with pytest.raises(ValidationError, match="Only a voice whose cloning failed"):
        services.custom_voice_retry(voice=voice, user=user)


# Deleting cloned voices -----------------------------------------------------------------


def test_delete_removes_it_everywhere(
    user, fake_elevenlabs, create_voice, settings, django_capture_on_commit_callbacks
):
    """Deleted at ElevenLabs, here, and on storage; its persona speaks with its preset."""
    voice = create_voice(user)
    persona = PersonaFactory(owner=user)
    PersonaVoiceFactory(persona=persona, custom_voice=voice, preset=VoicePresetFactory())
    with django_capture_on_commit_callbacks(execute=True):
        services.custom_voice_delete(voice=voice, user=user)
    assert fake_elevenlabs.counts["DELETE /v1/voices/cloned0001"] == 1
    assert not CustomVoice.objects.exists()
    assert media_files(settings) == []
    kept = PersonaVoice.objects.get(persona=persona)
    assert kept.custom_voice is None and kept.preset is not None


def test_delete_never_waits_for_elevenlabs(
    user, fake_elevenlabs, settings, queued_tasks, django_capture_on_commit_callbacks
):
    """ElevenLabs down: the voice goes here at once; its deletion there is queued (D10)."""
    voice = CustomVoiceFactory(owner=user, provider_voice_id="premade0000")
    persona = PersonaVoiceFactory(persona=PersonaFactory(owner=user), custom_voice=voice).persona
    fake_elevenlabs.fail_next("server_error", times=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.custom_voice_delete(voice=voice, user=user)
    assert not CustomVoice.objects.exists()
    assert media_files(settings) == []
    assert PersonaVoice.objects.get(persona=persona).custom_voice is None
    assert fake_elevenlabs.requests == []  # nothing asked of ElevenLabs during the request
    assert queued_tasks(DELETE_TASK) == [{"args": ["premade0000"], "kwargs": {}}]


def test_a_rolled_back_delete_queues_nothing(
    user, fake_elevenlabs, settings, queued_tasks, django_capture_on_commit_callbacks
):
    voice = CustomVoiceFactory(owner=user, provider_voice_id="premade0000")
    pk = voice.pk
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        rolled_back(lambda: services.custom_voice_delete(voice=voice, user=user))
    assert CustomVoice.objects.filter(pk=pk).exists()
    assert media_files(settings) == [voice.sample.name]
    assert queued_tasks(DELETE_TASK) == []


def test_provider_deletion_is_retried_later(fake_elevenlabs, queued_tasks):
    """A busy or broken ElevenLabs gets the deletion again later, up to MAX_ATTEMPTS."""
    fake_elevenlabs.fail_next("server_error", times=5)
    assert tasks.delete_provider_voice.call("premade0000") == "retrying"
    [again] = queued_tasks(DELETE_TASK)
    assert again == {"args": ["premade0000"], "kwargs": {"attempt": 2}}
    assert tasks.delete_provider_voice.call("premade0000", attempt=2) == "retrying"
    assert tasks.delete_provider_voice.call("premade0000", attempt=3) == "failed"
    assert len(queued_tasks(DELETE_TASK)) == 2  # the third attempt was the last
    assert "premade0000" in fake_elevenlabs.voices
    assert fake_elevenlabs.counts["DELETE /v1/voices/premade0000"] == 3


def test_provider_deletion_is_safe_to_run_twice(fake_elevenlabs, queued_tasks):
    """A voice ElevenLabs no longer has counts as deleted; nothing is queued again."""
    assert tasks.delete_provider_voice.call("premade0000") == "deleted"
    assert "premade0000" not in fake_elevenlabs.voices
    assert tasks.delete_provider_voice.call("premade0000") == "deleted"
    assert fake_elevenlabs.counts["DELETE /v1/voices/premade0000"] == 2
    assert queued_tasks(DELETE_TASK) == []


def test_provider_deletion_without_a_key_is_dropped(caplog):
    """No ElevenLabs key on the server: nothing to call, the voice id is logged."""
    assert tasks.delete_provider_voice.call("premade0000") == "no key"
    assert "premade0000" in caplog.text


def test_deleting_all_of_a_users_voices(
    user, other_user, fake_elevenlabs, settings, queued_tasks, django_capture_on_commit_callbacks
):
    """What account deletion calls: every voice goes here; ElevenLabs' copies are queued."""
    mine = [CustomVoiceFactory(owner=user, provider_voice_id=f"mine{i}") for i in range(2)]
    CustomVoiceFactory(owner=user, status=Status.FAILED, provider_voice_id="")
    theirs = CustomVoiceFactory(owner=other_user)
    fake_elevenlabs.fail_next("server_error", times=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.custom_voice_delete_all(user=user) == 3
    assert list(CustomVoice.objects.all()) == [theirs]
    assert media_files(settings) == [theirs.sample.name]
    queued = sorted(row["args"][0] for row in queued_tasks(DELETE_TASK))
    assert queued == sorted(voice.provider_voice_id for voice in mine)
    assert fake_elevenlabs.requests == []


def test_delete_of_a_voice_elevenlabs_lost(
    user, fake_elevenlabs, django_capture_on_commit_callbacks
):
    voice = CustomVoiceFactory(owner=user, provider_voice_id="gone")
    with django_capture_on_commit_callbacks(execute=True):
        services.custom_voice_delete(voice=voice, user=user)
    assert not CustomVoice.objects.exists()
    assert fake_elevenlabs.counts["DELETE /v1/voices/gone"] == 1


def test_only_the_owner_deletes_or_retries(user, other_user):
    """Someone else's voice does not exist for the caller: NotFound, never Http404."""
    voice = CustomVoiceFactory(owner=other_user, status=Status.FAILED, provider_voice_id="")
    with pytest.raises(NotFound):
        services.custom_voice_delete(voice=voice, user=user)
    with pytest.raises(NotFound):
        services.custom_voice_retry(voice=voice, user=user)
    assert CustomVoice.objects.filter(pk=voice.pk, status=Status.FAILED).exists()


# A persona's voice ----------------------------------------------------------------------


def test_owner_sets_preset_clone_and_settings(user):
    persona = PersonaFactory(owner=user)
    preset, clone = VoicePresetFactory(), CustomVoiceFactory(owner=user)
    services.persona_voice_set(
        persona=persona,
        user=user,
        preset=preset,
        custom_voice=clone,
        stability=0.1,
        similarity=0.2,
        style=0.3,
        speed=0.8,
        model_id="eleven_turbo_v2_5",
    )
    voice = voice_of(persona)
    assert (voice.preset, voice.custom_voice) == (preset, clone)
    assert (voice.stability, voice.similarity, voice.style, voice.speed, voice.model_id) == (
        0.1,
        0.2,
        0.3,
        0.8,
        "eleven_turbo_v2_5",
    )
    services.persona_voice_set(persona=persona, user=user, custom_voice=None)
    assert (voice_of(persona).preset, voice_of(persona).custom_voice) == (preset, None)


def test_someone_elses_clone_does_not_exist(user, other_user):
    persona = PersonaFactory(owner=user)
    with pytest.raises(NotFound):
        services.persona_voice_set(
            persona=persona, user=user, custom_voice=CustomVoiceFactory(owner=other_user)
        )


def test_a_failed_clone_is_refused(user):
    """A voice whose cloning failed can't be chosen, by object or by id (the API took one)."""
    persona = PersonaFactory(owner=user)
    failed = CustomVoiceFactory(owner=user, status=Status.FAILED, provider_voice_id="")
    for given in ({"custom_voice": failed}, {"custom_voice_id": failed.pk}):
        with pytest.raises(ValidationError) as caught:
            services.persona_voice_set(persona=persona, user=user, **given)
        assert caught.value.message_dict == {
            "custom_voice": ["This voice failed to clone; try it again first."]
        }
    assert not PersonaVoice.objects.filter(persona=persona).exists()
    pending = CustomVoiceFactory(owner=user, status=Status.PENDING, provider_voice_id="")
    services.persona_voice_set(persona=persona, user=user, custom_voice_id=pending.pk)
    assert voice_of(persona).custom_voice == pending  # it speaks with its preset until it is ready


def test_custom_voice_id_is_looked_up_among_the_callers_voices(user, other_user):
    persona = PersonaFactory(owner=user)
    theirs = CustomVoiceFactory(owner=other_user)
    for missing in (theirs.pk, 999_999):
        with pytest.raises(NotFound):
            services.persona_voice_set(persona=persona, user=user, custom_voice_id=missing)
    mine = CustomVoiceFactory(owner=user)
    services.persona_voice_set(persona=persona, user=user, custom_voice_id=mine.pk)
    assert voice_of(persona).custom_voice == mine
    services.persona_voice_set(persona=persona, user=user, custom_voice_id=None)
    assert voice_of(persona).custom_voice is None
    with pytest.raises(TypeError):
        services.persona_voice_set(
            persona=persona, user=user, custom_voice=mine, custom_voice_id=mine.pk
        )


def test_an_unchanged_voice_is_not_written(user):
    preset = VoicePresetFactory()
    persona = PersonaVoiceFactory(
        persona=PersonaFactory(owner=user), preset=preset, speed=1.1
    ).persona
    with CaptureQueriesContext(connection) as queries:
        services.persona_voice_set(persona=persona, user=user, preset=preset, speed=1.1)
    assert [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]] == []
    fresh = PersonaFactory(owner=user)
    with CaptureQueriesContext(connection) as queries:  # the defaults: no row is made
        services.persona_voice_set(persona=fresh, user=user, preset=None, speed=1.0)
    assert not PersonaVoice.objects.filter(persona=fresh).exists()
    assert not [q for q in queries if "INSERT" in q["sql"] or "UPDATE" in q["sql"]]


def test_system_personas_staff_only_and_no_clones(user, staff_user):
    isabella = PersonaProfile.objects.get(slug="isabella")
    with pytest.raises(PermissionDenied):
        services.persona_voice_set(persona=isabella, user=user, stability=0.2)
    with pytest.raises(ValidationError, match="Only a user's own persona"):
        services.persona_voice_set(
            persona=isabella, user=staff_user, custom_voice=CustomVoiceFactory(owner=staff_user)
        )
    services.persona_voice_set(persona=isabella, user=staff_user, speed=1.1)
    assert voice_of(isabella).speed == 1.1


def test_inactive_presets_are_not_offered_but_may_stay(user):
    persona = PersonaFactory(owner=user)
    retired = VoicePresetFactory(is_active=False)
    with pytest.raises(ValidationError, match="no longer offered"):
        services.persona_voice_set(persona=persona, user=user, preset=retired)
    PersonaVoiceFactory(persona=persona, preset=retired)
    persona.refresh_from_db()
    services.persona_voice_set(persona=persona, user=user, preset=retired, speed=0.9)
    assert (voice_of(persona).preset, voice_of(persona).speed) == (retired, 0.9)


# Speech and its cache -------------------------------------------------------------------


def test_second_identical_request_makes_no_provider_call(fake_elevenlabs, user, settings):
    """The same text, voice and settings come from the cache; anything different doesn't."""
    persona = PersonaFactory(owner=user)
    voice = PersonaVoiceFactory(persona=persona, preset=VoicePresetFactory(provider_voice_id="p1"))
    fake_elevenlabs.voices["p1"] = fake_elevenlabs.voices["premade0000"]
    first = services.speech_for_persona(persona, "Hello")
    second = services.speech_for_persona(persona, "Hello")
    assert (first.cache_hit, second.cache_hit, first.pk) == (False, True, second.pk)
    assert fake_elevenlabs.tts_calls() == 1
    assert second.audio.read() == first.audio.read()
    services.speech_for_persona(persona, "Hello again")
    assert fake_elevenlabs.tts_calls() == 2
    voice.stability = 0.9
    services.speech_for_persona(persona, "Hello")
    assert fake_elevenlabs.tts_calls() == 3
    voice.model_id = "eleven_flash_v2_5"
    services.speech_for_persona(persona, "Hello")
    voice.preset = None  # the default voice now
    services.speech_for_persona(persona, "Hello")
    assert fake_elevenlabs.tts_calls() == 5
    assert SpeechClip.objects.count() == 5
    assert len(media_files(settings)) == 5


def test_a_hit_updates_last_used(fake_elevenlabs, user):
    persona = PersonaFactory(owner=user)
    clip = services.speech_for_persona(persona, "Hi")
    SpeechClip.objects.filter(pk=clip.pk).update(last_used_at=timezone.now() - timedelta(days=3))
    services.speech_for_persona(persona, "Hi")
    clip.refresh_from_db()
    assert timezone.now() - clip.last_used_at < timedelta(minutes=1)


def test_a_clip_whose_file_vanished_is_made_again(fake_elevenlabs, user):
    persona = PersonaFactory(owner=user)
    clip = services.speech_for_persona(persona, "Hi")
    clip.audio.storage.delete(clip.audio.name)
    again = services.speech_for_persona(persona, "Hi")
    assert again.cache_hit is False
    assert fake_elevenlabs.tts_calls() == 2
    assert again.audio.storage.exists(again.audio.name)


def test_engines_have_their_own_cache(fake_elevenlabs, espeak, settings, user):
    """espeak-ng and ElevenLabs audio never stand in for each other."""
    persona = PersonaFactory(owner=user)
    settings.SPEECH_ENGINE = "elevenlabs"
    mp3 = services.speech_for_persona(persona, "Hi")
    settings.SPEECH_ENGINE = "espeak"
    wav = services.speech_for_persona(persona, "Hi")
    assert (mp3.engine, mp3.content_type, wav.engine, wav.content_type) == (
        "elevenlabs",
        "audio/mpeg",
        "espeak",
        "audio/wav",
    )
    assert wav.audio.read(4) == b"RIFF"


def test_no_engine_is_a_503(user):
    with pytest.raises(SpeechError) as caught:
        services.speech_for_persona(PersonaFactory(owner=user), "Hi")
    assert caught.value.status_code == 503
    assert caught.value.message == services.NO_ENGINE


def test_text_defaults_to_the_greeting_and_has_a_limit(user, settings):
    persona = PersonaFactory(owner=user, greeting="  Hey you!  ")
    assert services.speech_text_for_persona(persona, None) == "Hey you!"
    persona.greeting = ""
    assert services.speech_text_for_persona(persona, " ") == f"Hi, I'm {persona.name}."
    settings.SPEECH_MAX_CHARS = 5
    with pytest.raises(ValidationError, match="limited to 5 characters"):
        services.speech_text_for_persona(persona, "Too long")


def test_stream_keeps_the_audio_once_sent(fake_elevenlabs, user):
    """A streamed miss goes into the cache when it has all gone out; the next is a hit."""
    persona = PersonaFactory(owner=user)
    kwargs = {
        "text": "Streamed",
        "voice": selectors.voice_for_persona(persona),
        "shape": selectors.voice_settings_for_persona(persona),
    }
    speech = services.speech_stream(**kwargs)
    assert speech.cache_hit is False and not SpeechClip.objects.exists()
    audio = b"".join(speech.chunks)
    assert SpeechClip.objects.get().size == len(audio)
    again = services.speech_stream(**kwargs)
    assert again.cache_hit is True and b"".join(again.chunks) == audio
    assert fake_elevenlabs.tts_calls() == 1


def _clip(key: str, size: int, age_days: int) -> SpeechClip:
    clip = speech._store(key, "espeak", b"x" * size, "audio/wav")
    SpeechClip.objects.filter(pk=clip.pk).update(
        last_used_at=timezone.now() - timedelta(days=age_days)
    )
    return clip


def test_trim_deletes_least_recently_used_first(settings, django_capture_on_commit_callbacks):
    clips = [_clip(f"k{i}", 100, age_days=i) for i in range(5)]  # k4 is the oldest
    with django_capture_on_commit_callbacks(execute=True):
        assert services.speech_cache_trim(max_bytes=250) == (3, 300)
    assert set(SpeechClip.objects.values_list("key", flat=True)) == {"k0", "k1"}
    assert media_files(settings) == sorted(c.audio.name for c in clips[:2])
    assert services.speech_cache_trim(max_bytes=250) == (0, 0)


def test_storing_trims_to_the_setting(settings):
    settings.SPEECH_CACHE_MAX_BYTES = 250
    for i in range(4):
        _clip(f"k{i}", 100, age_days=10 - i)
    assert SpeechClip.objects.count() == 2
    assert SpeechClip.objects.filter(key="k3").exists()  # the newest is always kept


def test_same_speech_stored_twice_keeps_one(settings):
    """A race between two misses ends with one clip and one file."""
    first = speech._store("same", "espeak", b"one", "audio/wav")
    second = speech._store("same", "espeak", b"two", "audio/wav")
    assert first.pk == second.pk
    assert len(media_files(settings)) == 1
    assert io.BytesIO(second.audio.read()).read() == b"one"


# Presets --------------------------------------------------------------------------------


def test_preset_set_active_changes_only_what_differs():
    """Staff offer or withdraw presets; rows already so are left alone (and not counted)."""
    offered, withdrawn = VoicePresetFactory(), VoicePresetFactory(is_active=False)
    before = withdrawn.updated_at
    both = VoicePreset.objects.filter(pk__in=[offered.pk, withdrawn.pk])
    assert services.preset_set_active(presets=both, active=True) == 1
    withdrawn.refresh_from_db()
    assert withdrawn.is_active and withdrawn.updated_at > before
    assert services.preset_set_active(presets=both, active=True) == 0
    assert services.preset_set_active(presets=both, active=False) == 2
    assert not VoicePreset.objects.filter(pk__in=[offered.pk, withdrawn.pk], is_active=True)


def voice_of(persona: PersonaProfile) -> PersonaVoice:
    return PersonaVoice.objects.get(persona=persona)


def test_a_cloned_voice_only_on_its_owners_custom_persona(user, other_user):
    """The rule a check constraint cannot hold (it spans tables) is the service's."""
    system = PersonaProfile.objects.get(slug="luna")
    mine = CustomVoiceFactory(owner=user)
    with pytest.raises(ValidationError, match="Only a user's own persona"):
        services.persona_voice_set(persona=system, user=User(is_staff=True), custom_voice=mine)
    theirs_persona = PersonaFactory(owner=other_user)
    with pytest.raises(NotFound):  # a voice given as a row, of someone else's persona
        services.persona_voice_set(persona=theirs_persona, user=other_user, custom_voice=mine)
    assert not PersonaVoice.objects.filter(custom_voice=mine).exists()


def test_a_duplicated_system_persona_gets_the_voice_without_a_clone(staff_user):
    luna = PersonaProfile.objects.get(slug="luna")
    copy = PersonaFactory.build(owner=None, is_custom=False, name="Copy", slug="copy")
    copy.save()
    services.persona_voice_copy(source=luna, target=copy)
    assert voice_of(copy).preset == voice_of(luna).preset
    assert services.persona_voice_copy(source=PersonaFactory(), target=copy) is None
