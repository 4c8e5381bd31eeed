"""Samples move out of public media into the private storage, and back; the speech cache,
named after what it says and owned by no one, is emptied."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("voices", "0002_classic_presets")
AFTER = ("voices", "0004_move_private_files")


def put(root, name: str, content: bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def test_private_files_move_forward_and_back(migrator, settings):
    public, private = settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT
    old = migrator.apply_initial_migration(BEFORE)
    User = old.apps.get_model("users", "User")
    CustomVoice = old.apps.get_model("voices", "CustomVoice")
    SpeechClip = old.apps.get_model("voices", "SpeechClip")
    owner = User.objects.create(username="alice")
    sample = "voice-samples/0123456789abcdef0123456789abcdef.wav"
    put(public, sample, b"RIFF sample")
    voice = CustomVoice.objects.create(
        owner=owner,
        name="Me",
        sample=sample,
        format="wav",
        content_type="audio/wav",
        duration=12,
        size=11,
        sha256="0" * 64,
    )
    missing = CustomVoice.objects.create(
        owner=owner,
        name="Lost",
        sample="voice-samples/lost.wav",
        format="wav",
        content_type="audio/wav",
        duration=12,
        size=11,
        sha256="0" * 64,
    )
    clip_name = f"speech/{'ab' * 32}.mp3"
    put(public, clip_name, b"ID3 what was said")
    SpeechClip.objects.create(
        key="ab" * 32, audio=clip_name, content_type="audio/mpeg", size=17, engine="elevenlabs"
    )
    put(public, "speech/leftover.mp3", b"ID3")  # a file no row holds
    put(public, "avatars/a.webp", b"RIFF avatar")

    new = migrator.apply_tested_migration(AFTER)
    CustomVoice = new.apps.get_model("voices", "CustomVoice")
    assert CustomVoice.objects.get(pk=voice.pk).sample.name == sample
    assert (private / sample).read_bytes() == b"RIFF sample"
    assert CustomVoice.objects.get(pk=missing.pk).sample.name == "voice-samples/lost.wav"
    assert not new.apps.get_model("voices", "SpeechClip").objects.exists()
    left = sorted(str(p.relative_to(public)) for p in public.rglob("*") if p.is_file())
    assert left == ["avatars/a.webp"]

    again = migrator.apply_tested_migration(BEFORE)
    CustomVoice = again.apps.get_model("voices", "CustomVoice")
    assert CustomVoice.objects.get(pk=voice.pk).sample.name == sample
    assert (public / sample).read_bytes() == b"RIFF sample"
    assert not (private / sample).exists()
    migrator.reset()
