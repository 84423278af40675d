"""The reports page's and the exports' choices: a range of days (the last 30 by default) and a grouping."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from .. import reports

DEFAULT_DAYS = 30
MAX_REPORT_DAYS = 366  # a year (a leap one too) on one page and one chart


class RangeForm(forms.Form):
    """From and to, both included and both optional: to is today, from 29 days before `to`. Always bound
    (pass request.GET): a missing day takes its default, a bad one is an error."""

    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"invalid": "Enter the first day as a date, e.g. 2025-01-31."})
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"invalid": "Enter the last day as a date, e.g. 2025-01-31."})
    max_days: int | None = None

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what Form.clean returns (typed dict | None in the stubs)
        if self.errors:
            return data
        date_to = data.get("date_to") or timezone.localdate()
        date_from = data.get("date_from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise forms.ValidationError(f"The first day ({date_from:%Y-%m-%d}) is after the last day "
                                        f"({date_to:%Y-%m-%d}).", code="reversed")
        if self.max_days and (date_to - date_from).days + 1 > self.max_days:
            raise forms.ValidationError(f"Pick at most {self.max_days} days at a time.", code="too_long")
        data["date_from"], data["date_to"] = date_from, date_to
        return data

    def error_lines(self) -> list[str]:
        """Every error, as one line each, with the field it is about."""
        found = [str(error) for error in self.non_field_errors()]  # an ErrorList gives its messages
        for field in self:
            found.extend(f"{field.label}: {error}" for error in field.errors)
        return found


class ReportForm(RangeForm):
    group = forms.ChoiceField(choices=reports.GROUPINGS, required=False, label="Group by")
    max_days = MAX_REPORT_DAYS

    def clean_group(self):
        return self.cleaned_data.get("group") or reports.DAY
