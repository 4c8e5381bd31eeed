"""Connect personas to the registries and signals of the apps below it.

Imported once, from the app's `AppConfig.ready()`.
"""

from django.db.models.signals import post_delete, post_save

from personas.cache import personas_changed

# Every way a persona changes: services, the admin, a cascade from its owner. Deleting a
# voice sets the personas' voice to NULL in SQL, without saving them: that counts too.
# Bulk updates send no signal: their services call personas_changed() themselves.
for _sender in ("personas.PersonaProfile", "voices.VoicePreset", "voices.CustomVoice"):
    post_delete.connect(
        personas_changed, sender=_sender, dispatch_uid=f"personas-changed-{_sender}"
    )
post_save.connect(personas_changed, sender="personas.PersonaProfile", dispatch_uid="personas-saved")
