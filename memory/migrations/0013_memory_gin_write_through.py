"""The memories' GIN indexes write through (PostgreSQL): no pending list for searches to read."""

from django.db import migrations

from mybella.core.migration_utils import gin_without_pending_list


class Migration(migrations.Migration):
    dependencies = [("memory", "0012_memory_pair_pinned_idx")]

    operations = [gin_without_pending_list("memory_search_idx", "memory_pair_terms_idx")]
