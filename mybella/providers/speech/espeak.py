"""espeak-ng: a robotic but free and offline voice, used when there is no ElevenLabs key."""

import shutil
import subprocess
import tempfile
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


def espeak_binary() -> str | None:
    """Return the path of the espeak-ng program, or None when it isn't installed."""
    return shutil.which(settings.ESPEAK_BINARY)


class EspeakEngine(SpeechEngine):
    """Run espeak-ng once per text and return the WAV it writes."""

    name = "espeak"

    def variant(self, voice: VoiceChoice) -> str:
        """Pick a language and voice variant from the voice's labels (gender, accent)."""
        labels = {k: str(v).lower() for k, v in (voice.labels or {}).items()}
        language = "en-gb" if labels.get("accent") in {"british", "english"} else "en-us"
        gender = labels.get("gender")
        return f"{language}+{'f3' if gender == 'female' else 'm3'}" if gender else language

    def voice_key(self, voice: VoiceChoice) -> str:
        return self.variant(voice)

    def synthesize(self, text: str, voice: VoiceChoice, settings: VoiceSettings) -> Audio:
        """Speak `text` into a temporary WAV file and return its bytes."""
        binary = espeak_binary()
        if binary is None:
            raise SpeechError("espeak-ng is not installed on the server.", 503)
        speed = str(round(WORDS_PER_MINUTE * settings.speed))
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder, "speech.wav")
            # -w, not --stdout: espeak-ng streams a WAV header with a bogus length to stdout.
            # The text goes in on stdin so that none of it can be read as an option.
            command = [binary, "-w", str(out), "-v", self.variant(voice), "-s", speed, "--stdin"]
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
