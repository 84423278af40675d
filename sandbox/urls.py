from django.urls import path

from . import views

app_name = "sandbox"

urlpatterns = [
    path("api/v2", views.api_v2, name="api"),
    # Some clients append a slash to the URL they were given; answer there too rather than redirect a POST.
    path("api/v2/", views.api_v2),
]
