"""A partial index of each pair's pinned memories, which recall reads on every search."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("memory", "0011_memory_pair_terms")]

    operations = [
        migrations.AddIndex(
            model_name="conversationmemory",
            index=models.Index(
                condition=models.Q(("pinned", True)),
                fields=["user", "persona"],
                name="memory_pair_pinned_idx",
            ),
        ),
    ]
