"""Connect personas to its registries and to the signals of its own models.

Imported once, from the app's `AppConfig.ready()`.
"""

from django.db.models.signals import post_delete, post_save

from personas.cache import personas_changed
from personas.lorebook_section import LOREBOOK_SECTION
from personas.sections import persona_sections

persona_sections.register(LOREBOOK_SECTION)

# Every way what a persona list shows changes: services, the admin, a cascade from its
# owner. Bulk updates send no signal: their services call personas_changed() themselves.
# The apps above connect their own models (voices: a persona's voice, presets, clones).
for _sender in ("personas.PersonaProfile", "personas.LorebookEntry", "personas.PersonaSelection"):
    post_save.connect(personas_changed, sender=_sender, dispatch_uid=f"personas-saved-{_sender}")
    post_delete.connect(
        personas_changed, sender=_sender, dispatch_uid=f"personas-deleted-{_sender}"
    )
