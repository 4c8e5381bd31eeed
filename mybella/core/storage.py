"""Storage of private files: uploads and audio that only their owner may fetch.

They live apart from public media (MEDIA_ROOT, or the media bucket), so no route that serves
public media, in Django or in a web server in front of it, can reach them. Views that check
who is asking read them through the storage (`.open()`); they have no URL.
"""

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property


def private_storage() -> Storage:
    """Return the storage of private files, `STORAGES["private"]`.

    Give it to a file field as `storage=private_storage`: the callable, not its result, so
    migrations stay the same whichever backend the settings choose.
    """
    return storages["private"]


@deconstructible(path="mybella.core.storage.PrivateFileSystemStorage")
class PrivateFileSystemStorage(FileSystemStorage):
    """Local storage under PRIVATE_MEDIA_ROOT, with no URL for anything in it."""

    def __init__(self, location: str | None = None, **kwargs: object) -> None:
        kwargs.pop("base_url", None)  # a URL is what this storage must not have
        super().__init__(location=location, **kwargs)

    @cached_property
    def base_location(self) -> str:
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @cached_property
    def base_url(self) -> None:
        return None

    def _clear_cached_properties(self, setting: str, **kwargs: object) -> None:
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name: str | None) -> str:
        raise ValueError(
            f"{name!r} is private and has no URL: serve it through a view that checks its owner."
        )
