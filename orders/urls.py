from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/cancel/", views.order_cancel, name="cancel"),
    path("<int:pk>/refill/", views.order_refill, name="refill"),
    path("refills/", views.refill_list, name="refills"),
    path("new/", views.order_new, name="new"),
    path("new/services/", views.service_options, name="service_options"),
    path("new/fields/", views.service_fields, name="service_fields"),
    path("new/quote/", views.order_quote_fragment, name="quote"),
    path("mass/", views.mass_order, name="mass"),
]
