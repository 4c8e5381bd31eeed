from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.chat_page, name="page"),
    path("messages/rows/", views.message_rows, name="message-rows"),
    path("messages/older/", views.message_older, name="message-older"),
    path("messages/<int:pk>/retry/", views.message_retry, name="message-retry"),
    path("conversations/", views.conversation_list, name="conversation-list"),
    path("conversations/<int:pk>/rename/", views.conversation_rename, name="conversation-rename"),
    path("conversations/<int:pk>/delete/", views.conversation_delete, name="conversation-delete"),
]
