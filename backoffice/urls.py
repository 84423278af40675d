"""Every staff page, under /staff/. The namespaces name the part of the business each page runs."""

from django.urls import include, path

from .views import audit, catalog, customers, dashboard, orders, payments, prices, reports, settings, tickets

catalog_patterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("notices/<int:pk>/resolve/", dashboard.notice_resolve, name="notice_resolve"),
    path("providers/", catalog.providers, name="providers"),
    path("providers/add/", catalog.provider_add, name="provider_add"),
    path("providers/<int:pk>/edit/", catalog.provider_edit, name="provider_edit"),
    path("providers/<int:pk>/check/", catalog.provider_check, name="provider_check"),
    path("providers/<int:pk>/sync/", catalog.provider_sync, name="provider_sync"),
    path("providers/<int:pk>/syncs/", catalog.provider_syncs, name="provider_syncs"),
    path("services/", catalog.services_list, name="services"),
    path("services/bulk/", catalog.services_bulk, name="services_bulk"),
    path("services/<int:pk>/edit/", catalog.service_edit, name="service_edit"),
    path("categories/", catalog.categories, name="categories"),
    path("categories/<int:pk>/rename/", catalog.category_rename, name="category_rename"),
    path("categories/<int:pk>/move/", catalog.category_move, name="category_move"),
]

orders_patterns = [
    path("", orders.order_list, name="list"),
    path("<int:pk>/resend/", orders.order_resend, name="resend"),
    path("<int:pk>/cancel-refund/", orders.order_cancel_refund, name="cancel_refund"),
    path("<int:pk>/clear-flag/", orders.order_clear_flag, name="clear_flag"),
    path("<int:pk>/attach/", orders.order_attach, name="attach"),
    path("<int:pk>/partial/", orders.order_partial, name="partial"),
    path("<int:pk>/complete/", orders.order_complete, name="complete"),
    path("bulk/", orders.order_bulk, name="bulk"),
]

payments_patterns = [
    path("", payments.payment_list, name="list"),
    path("totals/", payments.totals, name="totals"),
    path("methods/", payments.methods, name="methods"),
    path("methods/add/", payments.method_add, name="method_add"),
    path("methods/<int:pk>/edit/", payments.method_edit, name="method_edit"),
    path("<int:pk>/", payments.payment_detail, name="detail"),
    path("<int:pk>/approve/", payments.payment_approve, name="approve"),
    path("<int:pk>/reject/", payments.payment_reject, name="reject"),
]

# The back office's own pages (customers, audit, reports): not about one app's objects.
tickets_patterns = [
    path("", tickets.ticket_list, name="list"),
    path("<int:pk>/", tickets.ticket_detail, name="detail"),
    path("<int:pk>/reply/", tickets.ticket_reply, name="reply"),
    path("<int:pk>/update/", tickets.ticket_update, name="update"),
]

backoffice_patterns = [
    path("audit/", audit.audit_list, name="audit"),
    path("settings/", settings.site_settings, name="settings"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer"),
    path("customers/<int:pk>/funds/", customers.customer_funds, name="customer_funds"),
    path("customers/<int:pk>/disable/", customers.customer_disable, name="customer_disable"),
    path("customers/<int:pk>/enable/", customers.customer_enable, name="customer_enable"),
    path("customers/<int:pk>/revoke-key/", customers.customer_revoke_key, name="customer_revoke_key"),
    path("customers/<int:pk>/clear-flag/", customers.customer_clear_flag, name="customer_clear_flag"),
    path("customers/<int:pk>/discount/", prices.customer_discount, name="customer_discount"),
    path("customers/<int:pk>/rates/", prices.customer_rate_add, name="customer_rate_add"),
    path("customers/<int:pk>/rates/<int:rate_pk>/delete/", prices.customer_rate_delete, name="customer_rate_delete"),
    path("reports/", reports.report, name="reports"),
    path("exports/<str:kind>.csv", reports.export, name="export"),
]

urlpatterns = [
    path("orders/", include((orders_patterns, "staff_orders"))),
    path("payments/", include((payments_patterns, "staff_payments"))),
    path("tickets/", include((tickets_patterns, "staff_tickets"))),
    path("", include((backoffice_patterns, "backoffice"))),
    path("", include((catalog_patterns, "staff_catalog"))),
]
