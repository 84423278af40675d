"""The customer's tickets. (Placeholder: the ticket pages are being written.)"""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("Not yet.", status=501)


ticket_list = ticket_new = ticket_detail = ticket_reply = _todo
