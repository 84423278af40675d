from django.urls import path

from . import staff_views

app_name = "staff_orders"

urlpatterns = [
    path("", staff_views.order_list, name="list"),
    path("<int:pk>/resend/", staff_views.order_resend, name="resend"),
    path("<int:pk>/cancel-refund/", staff_views.order_cancel_refund, name="cancel_refund"),
    path("<int:pk>/clear-flag/", staff_views.order_clear_flag, name="clear_flag"),
]
