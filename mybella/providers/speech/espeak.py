"""espeak-ng: a robotic but free and offline voice, used when there is no ElevenLabs key."""

import functools
import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from mybella.providers.speech.base import (
    Audio,
    SpeechEngine,
    SpeechError,
    VoiceChoice,
    VoiceSettings,
)

WORDS_PER_MINUTE = 175  # espeak-ng's own default pace
TIMEOUT = 30  # seconds


@dataclass(frozen=True)
class EspeakVoice:
    """How espeak-ng speaks one voice: its variant (`-v en-us+f3`), pitch (`-p`, 0–99) and
    pace in words per minute at speed 1 (`-s`)."""

    variant: str
    pitch: int
    words_per_minute: int


# The nine classic ElevenLabs voices (voices' presets), each its own espeak-ng voice so
# that offline the nine still sound like nine: variant, pitch and pace follow the
# description of the voice (deep → low, soft → slow, crisp → quick, raspy → croak).
PRESET_VOICES: dict[str, EspeakVoice] = {
    "21m00Tcm4TlvDq8ikWAM": EspeakVoice("en-us+f3", 58, 165),  # Rachel: calm woman
    "pNInz6obpgDQGcFmaJgB": EspeakVoice("en-us+m1", 28, 160),  # Adam: deep middle-aged man
    "EXAVITQu4vr4xnSDxMaL": EspeakVoice("en-us+f2", 66, 155),  # Bella: soft young woman
    "ErXwobaYiN019PkySvjV": EspeakVoice("en-us+m3", 50, 175),  # Antoni: well-rounded man
    "MF3mGyEYCl7XYWbV9V6O": EspeakVoice("en-us+f4", 74, 185),  # Elli: emotional woman
    "TxGEqnHWrfWFTfGW9XjX": EspeakVoice("en-us+m2", 36, 170),  # Josh: deep young man
    "VR6AewLTigWG4xSOukaG": EspeakVoice("en-us+m7", 42, 190),  # Arnold: crisp man
    "AZnzlk1XvdvUeBnXmlld": EspeakVoice("en-us+f5", 50, 180),  # Domi: strong woman
    "yoZ06aMxZJJ28mfd3POQ": EspeakVoice("en-us+croak", 46, 168),  # Sam: raspy man
}
FEMALE_VARIANTS = ("f1", "f2", "f3", "f4", "f5")
MALE_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7")


def espeak_binary() -> str | None:
    """Return the path of the espeak-ng program, or None when it isn't installed.

    Looked up once per process and name: pages ask on every request whether the server speaks,
    and a search of PATH cost a persona page 0.25 ms of its 2.5.
    """
    return _installed(settings.ESPEAK_BINARY)


@functools.lru_cache(maxsize=8)
def _installed(name: str) -> str | None:
    return shutil.which(name)


class EspeakEngine(SpeechEngine):
    """Run espeak-ng once per text and return the WAV it writes."""

    name = "espeak"

    def voice(self, voice: VoiceChoice) -> EspeakVoice:
        """Return the espeak-ng voice of `voice`: a classic preset's own, else one made from
        its labels (language from the accent, variant from the gender) and, so that two
        voices with the same labels still differ, a pitch and variant picked by its id."""
        known = PRESET_VOICES.get(voice.provider_voice_id)
        if known is not None:
            return known
        labels = {k: str(v).lower() for k, v in (voice.labels or {}).items()}
        language = "en-gb" if labels.get("accent") in {"british", "english"} else "en-us"
        gender = labels.get("gender")
        seed = int.from_bytes(hashlib.sha256(voice.provider_voice_id.encode()).digest()[:4])
        pitch = 35 + seed % 40
        if gender == "female":
            variant = f"{language}+{FEMALE_VARIANTS[seed % len(FEMALE_VARIANTS)]}"
        elif gender == "male":
            variant = f"{language}+{MALE_VARIANTS[seed % len(MALE_VARIANTS)]}"
        else:
            variant, pitch = language, 50
        return EspeakVoice(variant, pitch, WORDS_PER_MINUTE)

    def voice_key(self, voice: VoiceChoice) -> str:
        spoken = self.voice(voice)
        return f"{spoken.variant}:p{spoken.pitch}:s{spoken.words_per_minute}"

    def arguments(self, voice: VoiceChoice, settings: VoiceSettings) -> list[str]:
        """Return espeak-ng's voice options for `voice` shaped by `settings` (its speed)."""
        spoken = self.voice(voice)
        speed = round(spoken.words_per_minute * settings.speed)
        return ["-v", spoken.variant, "-p", str(spoken.pitch), "-s", str(speed)]

    def synthesize(self, text: str, voice: VoiceChoice, settings: VoiceSettings) -> Audio:
        """Speak `text` into a temporary WAV file and return its bytes."""
        binary = espeak_binary()
        if binary is None:
            raise SpeechError("espeak-ng is not installed on the server.", 503)
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder, "speech.wav")
            # -w, not --stdout: espeak-ng streams a WAV header with a bogus length to stdout.
            # The text goes in on stdin so that none of it can be read as an option.
            command = [binary, "-w", str(out), *self.arguments(voice, settings), "--stdin"]
            try:
                subprocess.run(  # noqa: S603 - a fixed program and arguments, no shell
                    command,
                    input=text.encode(),
                    capture_output=True,
                    timeout=TIMEOUT,
                    check=True,
                )
                content = out.read_bytes()
            except subprocess.TimeoutExpired as error:
                raise SpeechError("espeak-ng took too long.", 504) from error
            except (subprocess.CalledProcessError, OSError) as error:
                raise SpeechError("espeak-ng could not speak this text.", 502) from error
        if not content:
            raise SpeechError("espeak-ng could not speak this text.", 502)
        return Audio(content, "audio/wav")
