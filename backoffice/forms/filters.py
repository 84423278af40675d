"""The one way a staff list is filtered: a form of optional GET fields whose filters() are the selector's
keyword arguments."""

from typing import Any

from django import forms


class FilterForm(forms.Form):
    """A staff list's filter bar. filters() keeps the valid values only: a bad one (a date that is no date, a
    stale ID) drops its own filter, and its error shows above the list (templates/_filter_errors.html),
    never a 500. Empty values, and unticked boxes, filter nothing. `renamed` maps a field's name to the
    selector's argument."""

    renamed: dict[str, str] = {"q": "search"}

    def filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()  # fills cleaned_data with the fields that are valid
        return {self.renamed.get(name, name): value for name, value in self.cleaned_data.items()
                if not (value is None or value == "" or value is False)}
