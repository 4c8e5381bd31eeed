"""Step 1 of 3: every row gets a persona column, empty for now."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("memory", "0001_initial"),
        ("personas", "0002_system_personas"),
        ("users", "0002_user_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversationmemory",
            name="persona",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memories",
                to="personas.personaprofile",
                verbose_name="persona",
            ),
        ),
        migrations.AddField(
            model_name="userpreference",
            name="persona",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="preferences",
                to="personas.personaprofile",
                verbose_name="persona",
            ),
        ),
    ]
