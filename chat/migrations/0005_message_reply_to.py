"""Replies point at the message they answer; replies get the pending and stopped states."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_persona_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="chatmessage",
            name="reply_to",
            field=models.ForeignKey(
                blank=True,
                help_text="The user's message this reply answers.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="replies",
                to="chat.chatmessage",
                verbose_name="reply to",
            ),
        ),
        migrations.AlterField(
            model_name="chatmessage",
            name="error",
            field=models.TextField(
                blank=True,
                help_text="Why the reply failed or stopped, in words a user understands.",
                verbose_name="error",
            ),
        ),
        migrations.AlterField(
            model_name="chatmessage",
            name="status",
            field=models.CharField(
                choices=[
                    ("ok", "OK"),
                    ("pending", "Being written"),
                    ("stopped", "Stopped"),
                    ("failed", "Failed"),
                ],
                default="ok",
                max_length=10,
                verbose_name="status",
            ),
        ),
    ]
