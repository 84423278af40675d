"""Staff's tickets. (Placeholder: being written.)"""

from panel.decorators import staff_required


@staff_required
def ticket_list(request):
    from django.http import HttpResponse

    return HttpResponse("<h1>Tickets</h1>")


@staff_required
def ticket_detail(request, pk):
    from django.http import HttpResponse

    return HttpResponse("<h1>Ticket</h1>")


@staff_required(perm="handle_tickets")
def ticket_reply(request, pk):
    from django.http import HttpResponse

    return HttpResponse("<h1>Reply</h1>")


@staff_required(perm="handle_tickets")
def ticket_update(request, pk):
    from django.http import HttpResponse

    return HttpResponse("<h1>Update</h1>")
