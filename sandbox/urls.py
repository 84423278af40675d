from django.urls import path

from . import gateway, views

app_name = "sandbox"

urlpatterns = [
    path("api/v2", views.api_v2, name="api"),
    # Some clients append a slash to the URL they were given; answer there too rather than redirect a POST.
    path("api/v2/", views.api_v2),
    # The simulated payment gateway.
    path("gateway/v1/checkouts", gateway.api_checkouts, name="gateway_checkouts"),
    path("gateway/v1/checkouts/<str:checkout_id>", gateway.api_checkout, name="gateway_checkout"),
    path("gateway/v1/checkouts/<str:checkout_id>/refund", gateway.api_refund, name="gateway_refund"),
    path("gateway/checkout/<str:checkout_id>/", gateway.page, name="gateway_page"),
]
