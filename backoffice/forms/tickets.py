"""Forms of the back office's ticket pages: the list's filters, a reply or internal note, and a change of
status or assignment. They check shapes; the rules live in support.services."""

from typing import TYPE_CHECKING

from django import forms

from support.models import Ticket
from support.selectors import ASSIGNED_CHOICES, staff_members
from support.services import BODY_MAX, TicketRefused

from .filters import FilterForm


class TicketFilterForm(FilterForm):
    status = forms.ChoiceField(choices=[("", "Any status"), *Ticket.Status.choices], required=False)
    topic = forms.ChoiceField(choices=[("", "Any topic"), *Ticket.Topic.choices], required=False)
    assigned = forms.ChoiceField(choices=ASSIGNED_CHOICES, required=False)
    unread = forms.BooleanField(required=False, label="Unread only")
    q = forms.CharField(required=False, max_length=200, widget=forms.TextInput(attrs={
        "type": "search", "placeholder": "Ticket ID, subject, message text, username or email"}))


if TYPE_CHECKING:
    _Form = forms.BaseForm  # what the mixin is mixed into, for its calls to add_error and fields
else:
    _Form = object


class RefusalsMixin(_Form):
    def refuse(self, refused: TicketRefused) -> None:
        self.add_error(refused.field if refused.field in self.fields else None, refused.message)


class StaffReplyForm(RefusalsMixin, forms.Form):
    body = forms.CharField(required=False, strip=False, label="Message", widget=forms.Textarea(attrs={
        "rows": 6, "maxlength": BODY_MAX}), help_text=f"Up to {BODY_MAX:,} characters, as plain text.")
    internal = forms.BooleanField(required=False, label="Internal note (staff only: not shown, not sent)")
    status = forms.ChoiceField(choices=[("", "Answered (a note: as it is)"), *Ticket.Status.choices],
                               required=False, label="Then set the status")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.username


class TicketUpdateForm(RefusalsMixin, forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices, required=False)
    assigned_to = UserChoiceField(queryset=staff_members(), required=False, empty_label="Nobody",
                                  label="Assigned to", error_messages={
                                      "invalid_choice": "Assign the ticket to an active staff member, or to nobody."})
