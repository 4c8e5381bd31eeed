"""Step 3 of 3: a persona is required, and the per-pair reads get their indexes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chat", "0003_backfill_persona")]

    operations = [
        migrations.AlterField(
            model_name="conversation",
            name="persona",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="conversations",
                to="personas.personaprofile",
                verbose_name="persona",
            ),
        ),
        migrations.AlterField(
            model_name="chatmessage",
            name="persona",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="chat_messages",
                to="personas.personaprofile",
                verbose_name="persona",
            ),
        ),
        migrations.AddIndex(
            model_name="chatmessage",
            index=models.Index(
                fields=["user", "persona", "created_at"], name="message_pair_created_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["user", "persona", "created_at"], name="conversation_pair_created_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["user", "persona", "-updated_at"], name="conversation_pair_recent_idx"
            ),
        ),
    ]
