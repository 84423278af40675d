from django.http import HttpResponse

from panel.decorators import staff_required


@staff_required
def dashboard(request):
    return HttpResponse("Back office")
