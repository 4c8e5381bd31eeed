"""Voices uploaded without an ElevenLabs key wait for one instead of failing.

The voices that failed only for want of a key wait again (and clone once a key is set);
going back, they fail as they did.
"""

from django.db import migrations, models

NO_KEY = "Voice cloning needs an ElevenLabs API key."


def wait_for_a_key(apps, schema_editor):
    CustomVoice = apps.get_model("voices", "CustomVoice")
    CustomVoice.objects.filter(status="failed", error=NO_KEY).update(status="waiting", error="")


def fail_without_a_key(apps, schema_editor):
    CustomVoice = apps.get_model("voices", "CustomVoice")
    CustomVoice.objects.filter(status="waiting").update(status="failed", error=NO_KEY)


class Migration(migrations.Migration):
    dependencies = [
        ("voices", "0005_personavoice"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customvoice",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Queued"),
                    ("cloning", "Cloning"),
                    ("ready", "Ready"),
                    ("failed", "Failed"),
                    ("waiting", "Waiting for a key"),
                ],
                default="pending",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(wait_for_a_key, fail_without_a_key),
    ]
