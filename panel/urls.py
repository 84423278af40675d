from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", views.dashboard, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("services/", include("catalog.urls")),
    path("orders/", include("orders.urls")),
    path("payments/", include("payments.urls")),
    path("tickets/", include("support.urls")),
    path("notifications/", include("support.notification_urls")),
    path("staff/", include("backoffice.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("resellerapi.urls")),
    path("", include("panel.health")),  # /healthz and /healthz/live
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
