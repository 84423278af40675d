"""The bell and the notification settings. (Placeholder: being written.)"""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("Not yet.", status=501)


notification_list = bell = mark_read = preferences = _todo
