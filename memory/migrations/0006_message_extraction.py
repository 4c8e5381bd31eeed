"""Mark the messages extraction was already done for, so requeued old tasks skip them.

A message that is the source of a memory has been extracted. Tasks left RUNNING before this
migration are run again by the worker; without the marks they would remember those twice.
"""

import django.db.models.deletion
from django.db import migrations, models


def mark_sources_extracted(apps, schema_editor):
    Memory = apps.get_model("memory", "ConversationMemory")
    MessageExtraction = apps.get_model("memory", "MessageExtraction")
    sources = (
        Memory.source_messages.through.objects.values_list("chatmessage_id", flat=True)
        .distinct()
        .order_by("chatmessage_id")
    )
    batch = []
    for message_id in sources.iterator(chunk_size=2000):
        batch.append(MessageExtraction(message_id=message_id))
        if len(batch) == 2000:
            MessageExtraction.objects.bulk_create(batch)
            batch = []
    MessageExtraction.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_persona_required"),
        ("memory", "0005_history_switch_embedding"),
    ]

    operations = [
        migrations.CreateModel(
            name="MessageExtraction",
            fields=[
                (
                    "message",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="memory_extraction",
                        serialize=False,
                        to="chat.chatmessage",
                        verbose_name="message",
                    ),
                ),
                (
                    "extracted_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="extracted at"),
                ),
            ],
            options={
                "verbose_name": "message extraction",
                "verbose_name_plural": "message extractions",
            },
        ),
        migrations.RunPython(mark_sources_extracted, migrations.RunPython.noop),
    ]
