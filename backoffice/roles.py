"""Staff roles as Django groups: Support reads everything and acts on orders and tickets, without money or
settings; Admin does everything. Made (and brought back to these permissions) after every migrate."""

from django.contrib.auth.management import create_permissions

SUPPORT, ADMIN = "Support", "Admin"
ROLES = {
    SUPPORT: ["view_backoffice", "act_on_orders", "handle_tickets"],
    ADMIN: ["view_backoffice", "act_on_orders", "handle_tickets", "manage_money", "manage_customers",
            "manage_catalog", "manage_settings"],
}


def ensure_roles(app_config=None, using="default", apps=None, **kwargs) -> None:
    from django.apps import apps as global_apps
    from django.contrib.auth.models import Group, Permission

    create_permissions(global_apps.get_app_config("backoffice"), verbosity=0, using=using)
    for name, codenames in ROLES.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        permissions = Permission.objects.using(using).filter(content_type__app_label="backoffice",
                                                              codename__in=codenames)
        group.permissions.set(permissions)
