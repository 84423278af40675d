from django.urls import path

from . import views, webhooks

app_name = "payments"

urlpatterns = [
    path("", views.history, name="history"),
    path("add/", views.add, name="add"),
    path("add/quote/", views.quote, name="quote"),
    path("<uuid:reference>/", views.detail, name="detail"),
    path("<uuid:reference>/live/", views.detail_live, name="detail_live"),
    path("webhook/<slug:gateway>/", webhooks.webhook, name="webhook"),
]
