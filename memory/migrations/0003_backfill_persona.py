"""Step 2 of 3: existing rows belong to the user's current persona, else the default one.

A migration of its own so that PostgreSQL commits the updates before step 3 alters the table.
"""

from functools import partial

from django.db import migrations

from mybella.core.migration_utils import backfill_persona


class Migration(migrations.Migration):
    dependencies = [("memory", "0002_add_persona")]

    operations = [
        migrations.RunPython(
            partial(
                backfill_persona,
                app_label="memory",
                model_names=["ConversationMemory", "UserPreference"],
            ),
            migrations.RunPython.noop,
        ),
    ]
