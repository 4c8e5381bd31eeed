from django.urls import path

from memory import views

app_name = "memory"

urlpatterns = [
    path("", views.memory_page, name="page"),
    path("personas/<int:persona_id>/add/", views.memory_add, name="add"),
    path("personas/<int:persona_id>/forget/", views.memory_forget_all, name="forget_all"),
    path("personas/<int:persona_id>/remember/", views.memory_remember, name="remember"),
    path("personas/<int:persona_id>/preferences/", views.memory_preferences, name="preferences"),
    path("<int:pk>/edit/", views.memory_edit, name="edit"),
    path("<int:pk>/pin/", views.memory_pin, name="pin"),
    path("<int:pk>/delete/", views.memory_delete, name="delete"),
]
