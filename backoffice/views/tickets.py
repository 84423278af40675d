"""Staff's tickets: the list with its filters and search, a ticket with its whole thread (internal notes
marked), a reply or internal note, and a change of status or assignment, each with its audit row. Thin:
support.selectors read, support.services writes."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.decorators import staff_required
from support import selectors, services
from support.services import UNCHANGED

from ..forms.tickets import StaffReplyForm, TicketFilterForm, TicketUpdateForm

TICKETS_PER_PAGE = 50


@staff_required
@require_GET
def ticket_list(request):
    form = TicketFilterForm(request.GET or None)
    filters = form.filters() if request.GET else {}
    tickets = selectors.tickets_for_staff(staff=request.user, **filters)
    page = Paginator(tickets, TICKETS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/tickets.html", {"form": form, "page": page})


def _ticket(pk):
    ticket = selectors.ticket_for_staff(ticket_id=pk)
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def _detail(request, ticket, reply_form=None, update_form=None):
    return render(request, "staff/ticket_detail.html", {
        "ticket": ticket, "reply_form": reply_form or StaffReplyForm(),
        "update_form": update_form or TicketUpdateForm(initial={"status": ticket.status,
                                                                "assigned_to": ticket.assigned_to_id}),
    })


@staff_required
@require_GET
def ticket_detail(request, pk):
    ticket = _ticket(pk)
    if ticket.staff_unread:  # a write only when there is something to mark (and only if still set)
        services.ticket_mark_read_by_staff(ticket_id=ticket.pk, staff=request.user)
    return _detail(request, ticket)


@staff_required(perm="handle_tickets")
@require_POST
def ticket_reply(request, pk):
    ticket = _ticket(pk)
    form = StaffReplyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            message = services.ticket_reply_by_staff(ticket_id=ticket.pk, staff=request.user, body=data["body"],
                                                     internal=data["internal"], status=data["status"] or None)
        except services.TicketRefused as refused:
            form.refuse(refused)
        else:
            ticket.refresh_from_db(fields=["status"])
            done = "Internal note kept" if message.internal else f"Reply sent to {ticket.customer.username}"
            messages.success(request, f"{done}; the ticket is {ticket.get_status_display()}.")
            return redirect("staff_tickets:detail", pk=ticket.pk)
    return _detail(request, ticket, reply_form=form)  # the text typed stays, with what is wrong with it


@staff_required(perm="handle_tickets")
@require_POST
def ticket_update(request, pk):
    ticket = _ticket(pk)
    form = TicketUpdateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        assigned_to = data["assigned_to"] if "assigned_to" in request.POST else UNCHANGED
        try:
            updated = services.ticket_update(ticket_id=ticket.pk, staff=request.user, status=data["status"] or None,
                                             assigned_to=assigned_to)
        except services.TicketRefused as refused:
            form.refuse(refused)
        else:
            if not updated.changes:
                messages.info(request, "Nothing changed.")
            else:
                said = []
                if "status" in updated.changes:
                    said.append(f"status {updated.get_status_display()}")
                if "assigned_to" in updated.changes:
                    said.append(f"assigned to {updated.changes['assigned_to'] or 'nobody'}")
                messages.success(request, f"Ticket #{updated.pk}: {', '.join(said)}.")
            return redirect("staff_tickets:detail", pk=ticket.pk)
    for error in form.errors.values():
        messages.error(request, " ".join(map(str, error)))
    return redirect("staff_tickets:detail", pk=ticket.pk)
