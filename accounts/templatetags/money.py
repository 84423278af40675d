from django import template

from accounts.money import money_str

register = template.Library()


@register.filter
def money(value):
    """Show an amount with 5 places; an empty value shows as a dash."""
    if value is None or value == "":
        return "—"
    return money_str(value)
