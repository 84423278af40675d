from django.urls import path

from . import staff_views as views

app_name = "staff_catalog"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("notices/<int:pk>/resolve/", views.notice_resolve, name="notice_resolve"),
    path("providers/", views.providers, name="providers"),
    path("providers/add/", views.provider_add, name="provider_add"),
    path("providers/<int:pk>/edit/", views.provider_edit, name="provider_edit"),
    path("providers/<int:pk>/check/", views.provider_check, name="provider_check"),
    path("providers/<int:pk>/sync/", views.provider_sync, name="provider_sync"),
    path("providers/<int:pk>/syncs/", views.provider_syncs, name="provider_syncs"),
    path("services/", views.services_list, name="services"),
    path("services/bulk/", views.services_bulk, name="services_bulk"),
    path("services/<int:pk>/edit/", views.service_edit, name="service_edit"),
    path("categories/", views.categories, name="categories"),
    path("categories/<int:pk>/rename/", views.category_rename, name="category_rename"),
    path("categories/<int:pk>/move/", views.category_move, name="category_move"),
]
