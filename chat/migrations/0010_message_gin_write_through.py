"""The messages' GIN indexes write through (PostgreSQL): no pending list for searches to read."""

from django.db import migrations

from mybella.core.migration_utils import gin_without_pending_list


class Migration(migrations.Migration):
    dependencies = [("chat", "0009_message_pair_terms")]

    operations = [
        gin_without_pending_list("chat_message_search_idx", "chat_message_pair_terms_idx")
    ]
