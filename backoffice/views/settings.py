"""The panel's settings staff change on a page (the environment holds the rest, see the README)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from core.decorators import staff_required
from core.models import SiteSettings
from core.services import SITE_SETTING_FIELDS, site_settings_update


class SiteSettingsForm(forms.ModelForm):
    class Meta:
        model = SiteSettings
        fields = list(SITE_SETTING_FIELDS)
        labels = {"new_services_on_sale": "New services from a sync go on sale at once"}


@staff_required(perm="manage_settings")
def site_settings(request):
    # Bound on any POST: a form of unticked boxes posts nothing at all.
    form = SiteSettingsForm(request.POST if request.method == "POST" else None, instance=SiteSettings.current())
    if request.method == "POST" and form.is_valid():
        site_settings_update(actor=request.user, **{name: form.cleaned_data[name] for name in SITE_SETTING_FIELDS})
        messages.success(request, "Settings saved.")
        return redirect("backoffice:settings")
    return render(request, "staff/settings.html", {"form": form})
