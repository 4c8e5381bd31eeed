"""Connect personas to its registries and to those of the apps below it.

Imported once, from the app's `AppConfig.ready()`.
"""

from personas.lorebook_section import LOREBOOK_SECTION
from personas.sections import persona_sections

persona_sections.register(LOREBOOK_SECTION)
