from django.conf import settings


def site(request):
    return {"PANEL_NAME": settings.PANEL_NAME, "PANEL_CURRENCY": settings.PANEL_CURRENCY}
