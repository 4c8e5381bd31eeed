"""Step 3 of 3: a persona is required, preferences are unique per (user, persona, key),
and the per-pair reads get their indexes.

Going back restores the per-user unique key; that fails, as it should, once a user has
set the same preference for two personas.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("memory", "0003_backfill_persona")]

    operations = [
        migrations.AlterField(
            model_name="conversationmemory",
            name="persona",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memories",
                to="personas.personaprofile",
                verbose_name="persona",
            ),
        ),
        migrations.AlterField(
            model_name="userpreference",
            name="persona",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="preferences",
                to="personas.personaprofile",
                verbose_name="persona",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="userpreference",
            name="preference_unique_per_user",
        ),
        migrations.AddConstraint(
            model_name="userpreference",
            constraint=models.UniqueConstraint(
                fields=("user", "persona", "key"), name="preference_unique_per_pair"
            ),
        ),
        migrations.AddIndex(
            model_name="conversationmemory",
            index=models.Index(
                fields=["user", "persona", "created_at"], name="memory_pair_created_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="userpreference",
            index=models.Index(
                fields=["user", "persona", "created_at"], name="preference_pair_created_idx"
            ),
        ),
    ]
