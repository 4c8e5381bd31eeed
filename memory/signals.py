"""memory's own signals: how its services ask for background work without importing tasks.

A service sends one once its transaction has committed (never after a rollback);
`memory.receivers` connects each to the task that does the work.
"""

from django.dispatch import Signal

# Sent on commit when memories were created or their content changed, with:
#   memory_ids: list[int]    the memories whose content is new
memory_content_changed = Signal()
