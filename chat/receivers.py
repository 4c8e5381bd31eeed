"""Connect chat to the signals of its own models.

Imported once, from the app's `AppConfig.ready()`.
"""

from django.db.models.signals import post_delete, post_save

from chat.cache import chat_row_changed

# What a user's cached history and conversation lists show (chat.cache). A message's delete
# is not connected: its services say so, and a conversation's cascade stays a fast delete.
post_save.connect(chat_row_changed, sender="chat.Conversation", dispatch_uid="chat-conv-saved")
post_delete.connect(chat_row_changed, sender="chat.Conversation", dispatch_uid="chat-conv-deleted")
post_save.connect(chat_row_changed, sender="chat.ChatMessage", dispatch_uid="chat-message-saved")
