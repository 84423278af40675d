from django.urls import path

from . import views

app_name = "resellerapi"

urlpatterns = [
    path("", views.api_page, name="page"),
    path("key/", views.api_key_new, name="key_new"),
    path("addresses/", views.api_networks, name="networks"),
    path("v2", views.api_v2, name="v2"),
    # Some clients append a slash to the URL they were given; answer there too rather than redirect a POST.
    path("v2/", views.api_v2),
]
