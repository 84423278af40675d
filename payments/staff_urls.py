from django.urls import path

from . import staff_views as views

app_name = "staff_payments"

urlpatterns = [
    path("", views.payment_list, name="list"),
    path("totals/", views.totals, name="totals"),
    path("methods/", views.methods, name="methods"),
    path("methods/add/", views.method_add, name="method_add"),
    path("methods/<int:pk>/edit/", views.method_edit, name="method_edit"),
    path("<int:pk>/", views.payment_detail, name="detail"),
    path("<int:pk>/approve/", views.payment_approve, name="approve"),
    path("<int:pk>/reject/", views.payment_reject, name="reject"),
]
