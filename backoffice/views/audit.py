"""The audit trail: every staff action, who and when, before and after. Read only, here and in the admin."""

import json

from django.core.paginator import Paginator
from django.shortcuts import render

from core import selectors
from core.decorators import staff_required

from ..forms.audit import AuditFilterForm

ENTRIES_PER_PAGE = 50


@staff_required
def audit_list(request):
    form = AuditFilterForm(request.GET or None, target_types=selectors.audit_target_types())
    filters = form.filters() if request.GET else {}
    page = Paginator(selectors.audit_entries(**filters), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    for entry in page:
        # For the template, set on the instance: not columns of the entry.
        entry.before_text = json.dumps(entry.before, sort_keys=True, default=str) if entry.before else ""  # type: ignore[attr-defined]
        entry.after_text = json.dumps(entry.after, sort_keys=True, default=str) if entry.after else ""  # type: ignore[attr-defined]
    return render(request, "staff/audit.html", {"form": form, "page": page})
