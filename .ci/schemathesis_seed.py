"""Give the schemathesis user something to find, through the API as a client would.

Waits for the server, then sends a message (a conversation, a reply, memories), tells a
persona to remember something and uploads a voice sample, so that fuzzed ids also reach
real objects (ids start at 1 in the fresh database).
"""

import io
import os
import time
import wave

import requests

URL = os.environ["MYBELLA_URL"]


def _wait_for_server(deadline: float = 60) -> None:
    start = time.monotonic()
    while True:
        try:
            requests.get(f"{URL}/api/schema/", timeout=5).raise_for_status()
            return
        except requests.RequestException:
            if time.monotonic() - start > deadline:
                raise
            time.sleep(0.5)


def _wav(seconds: int = 12, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"\x00\x01" * rate * seconds)
    return buffer.getvalue()


def main() -> None:
    _wait_for_server()
    api = requests.Session()
    token = api.post(
        f"{URL}/api/v1/auth/token/",
        json={
            "username": os.environ["MYBELLA_USERNAME"],
            "password": os.environ["MYBELLA_PASSWORD"],
        },
        timeout=30,
    )
    token.raise_for_status()
    api.headers["Authorization"] = f"Token {token.json()['token']}"
    sent = api.post(
        f"{URL}/api/v1/chat/messages/",
        json={"message": "Hi! I live in Lisbon and I love jasmine tea."},
        timeout=60,
    )
    sent.raise_for_status()
    persona = sent.json()["user_message"]["persona"]
    api.post(
        f"{URL}/api/v1/personas/{persona}/memories/",
        json={"content": "Plays the cello on Sundays", "pinned": True},
        timeout=30,
    ).raise_for_status()
    api.post(
        f"{URL}/api/v1/voices/custom/",
        data={"name": "Seed voice"},
        files={"sample": ("seed.wav", _wav(), "audio/wav")},
        timeout=60,
    ).raise_for_status()


if __name__ == "__main__":
    main()
