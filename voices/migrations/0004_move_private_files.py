"""Move voice samples out of public media into the private storage; empty the speech cache.

Samples keep their (random) names. Speech clips were named after a hash of what they say and
have no owner, so they could neither stay private nor go with their user's account: they are
deleted, and the cache fills again as speech is asked for. Whatever else is left in the two
folders of public media belongs to no row and goes too, so nothing private stays where a web
server in front might serve it.

Going back moves the samples back to public media; the speech cache stays empty.
"""

from django.core.files.storage import storages
from django.db import migrations

PRIVATE_FOLDERS = ("voice-samples", "speech")


def _move(source, target, name):
    """Move file `name` from storage `source` to `target`; return its name there, or None
    when neither holds it."""
    if not source.exists(name):
        return name if target.exists(name) else None
    with source.open(name, "rb") as content:
        moved = target.save(name, content)
    source.delete(name)
    return moved


def _move_samples(apps, source, target):
    CustomVoice = apps.get_model("voices", "CustomVoice")
    rows = CustomVoice.objects.exclude(sample="").values_list("pk", "sample")
    for pk, name in rows.iterator():
        moved = _move(source, target, name)
        if moved is not None and moved != name:
            CustomVoice.objects.filter(pk=pk).update(sample=moved)


def _empty_folder(storage, folder):
    try:
        _folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        storage.delete(f"{folder}/{name}")


def forward(apps, schema_editor):
    public, private = storages["default"], storages["private"]
    _move_samples(apps, public, private)
    apps.get_model("voices", "SpeechClip").objects.all().delete()
    for folder in PRIVATE_FOLDERS:
        _empty_folder(public, folder)


def backward(apps, schema_editor):
    _move_samples(apps, storages["private"], storages["default"])


class Migration(migrations.Migration):
    dependencies = [
        ("voices", "0003_private_storage_speech_owner"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
