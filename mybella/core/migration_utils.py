"""Helpers for data migrations. Historical migrations import these: change them only
in ways that keep every migration that uses them correct."""

from django.conf import settings
from django.db import migrations


def backfill_persona(apps, schema_editor, *, app_label: str, model_names: list[str]) -> None:  # noqa: ANN001
    """Give every row with no persona its user's current persona, else the default persona.

    A current persona counts only when it is active and the user may see it (a system
    persona, or one of the user's own). Rows are updated in a few set-based statements.
    """
    models = [apps.get_model(app_label, name) for name in model_names]
    if not any(model.objects.filter(persona__isnull=True).exists() for model in models):
        return
    # Looked up only when there is work: users 0004 deletes UserSettings after the
    # migrations calling this, so it is in their state, never in a later one.
    persona_model = apps.get_model("personas", "PersonaProfile")
    settings_model = apps.get_model("users", "UserSettings")

    by_persona: dict[int, list[int]] = {}
    rows = settings_model.objects.filter(
        current_persona__isnull=False, current_persona__is_active=True
    ).values_list("user_id", "current_persona_id", "current_persona__owner_id")
    for user_id, persona_id, owner_id in rows.iterator():
        if owner_id is None or owner_id == user_id:
            by_persona.setdefault(persona_id, []).append(user_id)

    system = persona_model.objects.filter(is_custom=False, is_active=True)
    default = (
        system.filter(slug=settings.DEFAULT_PERSONA_SLUG).first()
        or system.order_by("position", "name").first()
    )
    for model in models:
        pending = model.objects.filter(persona__isnull=True)
        for persona_id, user_ids in by_persona.items():
            pending.filter(user_id__in=user_ids).update(persona_id=persona_id)
        if pending.exists():
            if default is None:
                raise RuntimeError(
                    f"{model.__name__} rows need a persona but there is no active system persona."
                )
            pending.update(persona_id=default.pk)


def gin_without_pending_list(*indexes: str) -> migrations.RunPython:
    """Return an operation that makes PostgreSQL's GIN `indexes` write through (no-op on SQLite).

    With `fastupdate` (PostgreSQL's default) new entries wait in the index's pending list
    until a vacuum, and every search reads that whole list: after a day of messages a word's
    count read hundreds of pending pages. Search is what users wait for; writing a message's
    few lexemes straight into the index costs less. Reversible.
    """

    def switch(on: bool):  # noqa: ANN202
        def run(apps, schema_editor) -> None:  # noqa: ANN001
            if schema_editor.connection.vendor != "postgresql":
                return
            for index in indexes:
                schema_editor.execute(
                    f"ALTER INDEX {index} SET (fastupdate = {'on' if on else 'off'})"
                )
                if not on:
                    schema_editor.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")

        return run

    return migrations.RunPython(switch(False), switch(True))
