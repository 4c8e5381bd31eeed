"""Names of the files the app hands out (exports, cards), made from text a user wrote."""

from django.utils.text import slugify

# Characters of a stem: a name in any script stays readable, and its RFC 6266 `filename*`
# (percent-encoded UTF-8, up to 18 characters from one after normalisation) stays well
# within the header limits of proxies and the 255 bytes of a file system's names.
STEM_CHARS = 60


def file_stem(*texts: str, fallback: str, limit: int = STEM_CHARS) -> str:
    """Return `texts` slugified (any script) and joined by hyphens, at most `limit` characters
    in all; `fallback` when nothing of them is left."""
    parts = [slugify(text, allow_unicode=True) for text in texts]
    stem = "-".join(part for part in parts if part)[:limit].strip("-_")
    return stem or fallback
