from django.urls import path

from voices import views

app_name = "voices"

urlpatterns = [
    path("", views.voice_settings, name="page"),
    path("upload/", views.voice_upload, name="upload"),
    path("<int:pk>/row/", views.voice_row, name="row"),
    path("<int:pk>/option/", views.voice_option, name="option"),
    path("<int:pk>/retry/", views.voice_retry, name="retry"),
    path("<int:pk>/delete/", views.voice_delete, name="delete"),
]
