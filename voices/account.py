"""voices's part of exporting and deleting an account (`mybella.users.hooks`; none yet).

Imported once, from the app's `AppConfig.ready()`.
"""
