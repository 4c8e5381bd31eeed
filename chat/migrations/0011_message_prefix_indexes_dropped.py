"""The messages' own indexes on created_at, conversation and user go: the thread index
(conversation, created_at, id) and the pair index (user, persona, created_at) begin with
the two keys, and nothing reads messages by time alone (see `ChatMessage`).

The indexes are dropped by name: altering the fields on SQLite would remake the table, which
drops the full-text index's triggers on it. Reversed, they are created again as they were.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "chat_chatmessage"
# Django's own names for the fields' indexes (the same on every database).
INDEXES = {
    "chat_chatmessage_created_at_a817b1a2": "created_at",
    "chat_chatmessage_conversation_id_422f787f": "conversation_id",
    "chat_chatmessage_user_id_fa615e65": "user_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0010_message_gin_write_through"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{TABLE}" ("{column}")',
                )
                for name, column in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="chatmessage",
                    name="conversation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="chat.conversation",
                        verbose_name="conversation",
                    ),
                ),
                migrations.AlterField(
                    model_name="chatmessage",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True, verbose_name="created at"),
                ),
                migrations.AlterField(
                    model_name="chatmessage",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chat_messages",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
        )
    ]
