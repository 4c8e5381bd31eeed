"""The README's configuration table and settings.py name the same environment variables."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _settings_variables() -> set[str]:
    return set(READ.findall((ROOT / "mybella" / "settings.py").read_text()))


def _documented_variables() -> set[str]:
    rows = [
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("| `") and not line.startswith("| `GET") and "/api/" not in line
    ]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_variable_settings_read_is_documented():
    missing = _settings_variables() - _documented_variables()
    assert not missing, f"README's configuration table lacks {sorted(missing)}"


def test_every_documented_variable_is_read_by_settings():
    unknown = _documented_variables() - _settings_variables()
    assert not unknown, f"README documents variables settings.py never reads: {sorted(unknown)}"
