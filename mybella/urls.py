import re

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from mybella.core.throttles import rate_limit_auth
from mybella.core.views import csp_report, media
from mybella.users import views as user_views
from mybella.views import home

urlpatterns = [
    path("", home, name="home"),
    path(
        "users/login/",
        rate_limit_auth(user_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("users/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("chat/", include("chat.urls")),
    path("users/personas/", include("personas.urls")),
    path("users/memory/", include("memory.urls")),
    path("users/voices/", include("voices.urls")),
    path("users/", include("mybella.users.urls")),
    # The admin's own log-in, with the same limits as every other way in (matched first).
    path("admin/login/", rate_limit_auth(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/", include("mybella.api")),
    path("csp-report/", csp_report, name="csp-report"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            media,
        )
    ]

if settings.BENCH_BARE_VIEW:
    from mybella.core.bench import BareView

    urlpatterns.insert(0, path("api/v1/bench/bare/", BareView.as_view(), name="bench-bare"))

handler404 = "mybella.core.views.page_not_found"
handler500 = "mybella.core.views.server_error"
