from django.urls import path

from . import staff_views

app_name = "staff_catalog"

urlpatterns = [
    path("", staff_views.dashboard, name="dashboard"),
]
