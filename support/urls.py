from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.ticket_list, name="tickets"),
    path("new/", views.ticket_new, name="ticket_new"),
    path("<int:pk>/", views.ticket_detail, name="ticket"),
    path("<int:pk>/reply/", views.ticket_reply, name="ticket_reply"),
    path("<int:pk>/orders/", views.ticket_orders, name="ticket_orders"),
    path("<int:pk>/orders/<int:order_pk>/refill/", views.ticket_order_refill, name="ticket_order_refill"),
    path("<int:pk>/orders/<int:order_pk>/cancel/", views.ticket_order_cancel, name="ticket_order_cancel"),
]
