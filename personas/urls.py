from django.urls import path

from personas import views

app_name = "personas"

urlpatterns = [
    path("", views.persona_settings, name="settings"),
    path("new/", views.persona_create, name="create"),
    path("import/", views.persona_import, name="import"),
    path("<int:pk>/edit/", views.persona_edit, name="edit"),
    path("<int:pk>/select/", views.persona_select, name="select"),
    path("<int:pk>/delete/", views.persona_delete, name="delete"),
    path("<int:pk>/export/", views.persona_export, name="export"),
]
