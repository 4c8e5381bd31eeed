"""Run the project in a fresh Python process: the settings read the environment once, at
import, so a test of what they make of an environment starts a process of its own."""

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(*args: str, without: Iterable[str] = (), **env: str) -> subprocess.CompletedProcess:
    """Run `python *args` in the project folder with the test process's environment, less
    the variables whose names start with one of `without`, plus `env`; never raise on a
    failure (the result's returncode and stderr say it)."""
    dropped = tuple(without)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "mybella.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
