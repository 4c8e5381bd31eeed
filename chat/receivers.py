"""Connect chat to the registries and signals of the apps below it (none yet).

Imported once, from the app's `AppConfig.ready()`.
"""
