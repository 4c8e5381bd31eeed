"""Databases of their own for the benchmark and the evaluation, named after DATABASE_URL."""

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def derived_database_url(incoming: str, *, tag: str, default: Path, tool: str) -> str:
    """Return a URL beside `incoming` for a database of its own, tagged `tag`.

    PostgreSQL `…/name` becomes `…/name_<tag>`, SQLite `x.sqlite3` becomes
    `x-<tag>.sqlite3`; without `incoming`, a SQLite file at `default`.
    """
    if not incoming:
        return f"sqlite:///{default}"
    parts = urlsplit(incoming)
    if parts.scheme.startswith(("postgres", "pgsql")):
        name = parts.path.lstrip("/") or "mybella"
        return urlunsplit(parts._replace(path=f"/{name}_{tag}"))
    if parts.scheme.startswith("sqlite"):
        path = Path(parts.path[1:] if parts.path.startswith("//") else parts.path)
        suffix = path.suffix or ".sqlite3"
        return f"sqlite:///{path.with_name(f'{path.stem}-{tag}{suffix}')}"
    raise SystemExit(f"{tool}: DATABASE_URL must be PostgreSQL or SQLite, not {parts.scheme!r}")
