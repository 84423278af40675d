"""Forms of the staff pages. They check shapes and types; the catalog's rules live in services.py."""


from typing import cast

from django import forms

from catalog.models import Category, Provider, Service
from core.text import as_id

from .filters import FilterForm

MARKUP_HELP = "Percent over cost, e.g. 50 sells at 1.5 × cost."


class ProviderForm(forms.ModelForm):
    # Write-only: never rendered back (no value attribute, ever); on edit, empty keeps the stored key.
    # It is not a model field of this form, so validating the form never copies it onto the instance.
    api_key = forms.CharField(
        label="API key", required=False, strip=True, max_length=255,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Provider
        fields = [
            "name", "api_url", "currency", "exchange_rate", "markup_percent", "is_active",
            "http_method", "body_format", "key_field", "low_balance_warning", "poll_concurrency",
        ]
        labels = {
            "api_url": "API URL", "markup_percent": "Markup %", "is_active": "Active",
            "low_balance_warning": "Warn when its balance is below",
            "poll_concurrency": "Calls in flight while polling",
            "http_method": "HTTP method", "body_format": "Request body", "key_field": "Key field name",
        }
        widgets = {"http_method": forms.RadioSelect, "body_format": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["api_key"].required = self.instance.pk is None
        self.fields["api_key"].help_text = (
            "Stored, never shown. Leave empty to keep the current key." if self.instance.pk else ""
        )
        self.fields["markup_percent"].help_text = MARKUP_HELP
        self.fields["markup_percent"].validators.append(_not_negative)
        self.fields["exchange_rate"].validators.append(_positive)
        self.fields["low_balance_warning"].help_text = "In the provider's currency; empty: no warning."
        self.fields["low_balance_warning"].validators.append(_not_negative)
        self.fields["poll_concurrency"].required = False  # left out: kept as it is (a new provider: the default)
        cast(forms.IntegerField, self.fields["poll_concurrency"]).min_value = 1
        self.fields["poll_concurrency"].widget.attrs.update(min=1, max=32)
        self.fields["poll_concurrency"].help_text = "How many of its calls may be on their way at once (1 to 32)."

    def clean_api_url(self):
        url = self.cleaned_data["api_url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("The API URL must start with https:// or http://.")
        return url

    def clean_poll_concurrency(self):
        value = self.cleaned_data.get("poll_concurrency")
        if value is None:
            return self.instance.poll_concurrency
        if not 1 <= value <= 32:
            raise forms.ValidationError("From 1 to 32 calls at once.")
        return value

    def clean_key_field(self):
        key_field = self.cleaned_data["key_field"].strip()
        if not key_field.replace("_", "").isalnum():
            raise forms.ValidationError("Letters, digits and underscores only, e.g. key or api_key.")
        return key_field

    def provider_fields(self) -> dict:
        """The cleaned settings as keyword arguments for provider_add / provider_update."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def _not_negative(value):
    if value is not None and value < 0:
        raise forms.ValidationError("Cannot be negative.")


def _positive(value):
    if value is not None and value <= 0:
        raise forms.ValidationError("Must be above zero.")


class ServiceForm(forms.Form):
    name = forms.CharField(max_length=500)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.ModelChoiceField(queryset=Category.objects.order_by("sort_order", "name"))
    price_mode = forms.ChoiceField(choices=Service.PriceMode.choices, widget=forms.RadioSelect, label="Price")
    markup_percent = forms.DecimalField(
        required=False, max_digits=8, decimal_places=2, label="Markup % override",
        help_text="Derived prices only. Empty: the provider's markup.",
    )
    fixed_rate = forms.DecimalField(
        required=False, max_digits=20, decimal_places=5, label="Fixed price per 1000",
        help_text="Fixed prices only. Must not be below cost.",
    )
    min_quantity = forms.IntegerField(min_value=1, label="Minimum quantity")
    max_quantity = forms.IntegerField(min_value=1, label="Maximum quantity")
    refill = forms.BooleanField(required=False, label="Refill available")
    cancel = forms.BooleanField(required=False, label="Cancel available")

    FIELDS = ("name", "description", "category", "price_mode", "markup_percent", "fixed_rate", "min_quantity",
              "max_quantity", "refill", "cancel")

    def __init__(self, *args, mirror=None, **kwargs):
        super().__init__(*args, **kwargs)
        if mirror is not None:
            self.fields["min_quantity"].help_text = f"The provider's minimum is {mirror.min_quantity}."
            self.fields["max_quantity"].help_text = f"The provider's maximum is {mirror.max_quantity}."
            for flag in ("refill", "cancel"):
                if not getattr(mirror, flag):
                    self.fields[flag].help_text = "The provider does not offer it for this service."

    @classmethod
    def initial_for(cls, service: Service) -> dict:
        return {name: getattr(service, name) for name in cls.FIELDS}

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class ServiceFilterForm(FilterForm):
    ENABLED_CHOICES = [("", "Any"), ("yes", "Enabled"), ("no", "Disabled"), ("new", "New: waiting for review")]

    q = forms.CharField(required=False, max_length=100, label="Search")
    provider = forms.ModelChoiceField(queryset=Provider.objects.order_by("name"), required=False, empty_label="Any")
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("sort_order", "name"), required=False, empty_label="Any"
    )
    enabled = forms.ChoiceField(choices=ENABLED_CHOICES, required=False)

    def filters(self) -> dict:
        """Keyword arguments for selectors.services_for_staff, which takes IDs and a three-way `enabled`."""
        data = super().filters()
        provider, category = data.get("provider"), data.get("category")
        return {
            "provider_id": provider.pk if provider else None,
            "category_id": category.pk if category else None,
            "enabled": {"yes": True, "no": False}.get(data.get("enabled", "")),
            "waiting_review": data.get("enabled") == "new",
            "search": data.get("search", ""),
        }


class BulkServicesForm(forms.Form):
    ACTIONS = [("enable", "Enable"), ("disable", "Disable"), ("markup", "Set markup %")]

    action = forms.ChoiceField(choices=ACTIONS)
    services = forms.TypedMultipleChoiceField(coerce=int, required=False)
    markup_percent = forms.DecimalField(required=False, max_digits=8, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Which IDs exist is the service layer's concern; here an ID only has to be a number.
        services = cast(forms.TypedMultipleChoiceField, self.fields["services"])
        services.valid_value = lambda value: as_id(value) is not None  # type: ignore[method-assign]  # any ID passes: the service refuses one it cannot act on

    def clean_services(self):
        ids = self.cleaned_data["services"]
        if not ids:
            raise forms.ValidationError("Select at least one service.")
        return ids

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what Form.clean returns (typed dict | None in the stubs)
        if data.get("action") == "markup":
            markup = data.get("markup_percent")
            if markup is None:
                self.add_error("markup_percent", "Enter the markup % to set.")
            elif markup < 0:
                self.add_error("markup_percent", "The markup cannot be negative.")
        return data


class CategoryRenameForm(forms.Form):
    name = forms.CharField(max_length=255)


class CategoryMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
