"""The bell (the unread count in the top bar, refreshing itself), the list of one's notifications, and the
customer's email settings. Everyone sees only their own notifications: every query starts from the user."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .models import Notification, NotificationPreference
from .notification_forms import NotificationPreferenceForm

PER_PAGE = 25


def inbox(user):
    """The user's own notifications in the panel (the bell's), newest first."""
    return Notification.objects.filter(recipient=user, channel=Notification.Channel.INAPP).order_by(
        "-created_at", "-id")


def bell_context(user) -> dict:
    """The unread count, by kind (the bell's menu groups them): one query."""
    groups = list(inbox(user).filter(read_at__isnull=True).order_by().values_list("kind").annotate(n=Count("pk")))
    labels = dict(Notification.Kind.choices)
    groups = sorted(((labels.get(kind, kind), n) for kind, n in groups), key=lambda group: (-group[1], group[0]))
    return {"bell_live": True, "unread": sum(n for _, n in groups), "unread_groups": groups,
            "bell_refresh": settings.NOTIFY_BELL_REFRESH_SECONDS}


@require_GET
def bell(request):
    """The bell's fragment, fetched by HTMX when a page loads and every NOTIFY_BELL_REFRESH_SECONDS."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)  # logged out meanwhile: HTMX keeps the bell as it was (no login page in it)
    response = render(request, "support/_bell.html", bell_context(request.user))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def notification_list(request):
    """One's notifications, newest first; those on the page opened are marked read (and shown as new once)."""
    notifications = inbox(request.user)
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    fresh = [row.pk for row in rows if row.read_at is None]
    if fresh:
        notifications.filter(pk__in=fresh, read_at__isnull=True).update(read_at=timezone.now())
    unread_elsewhere = notifications.filter(read_at__isnull=True).exists()
    return render(request, "support/notifications.html", {"page": page, "rows": rows,
                                                          "unread_elsewhere": unread_elsewhere})


@login_required
@require_POST
def mark_read(request):
    """POST `id`: that one notification (one's own) is read, and its page opened. Without: all of them."""
    notifications = inbox(request.user)
    if request.POST.get("id"):
        notification = get_object_or_404(notifications, pk=_as_id(request.POST["id"]))
        if notification.read_at is None:
            notifications.filter(pk=notification.pk).update(read_at=timezone.now())
        url = notification.url
        if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
            return redirect(url)
        return redirect("notifications:list")
    marked = notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked read." if marked else
                     "Nothing was unread.")
    return redirect("notifications:list")


def _as_id(value) -> int:
    value = str(value).strip()
    return int(value) if value.isdigit() and len(value) < 19 else 0


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Which kinds of notification the customer also gets by email. The preference row is made on the first
    save, with everything on until then."""
    if request.user.is_staff:
        return render(request, "support/notification_preferences.html", {"form": None})
    preference = (NotificationPreference.objects.filter(user=request.user).first()
                  or NotificationPreference(user=request.user))
    form = NotificationPreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your email settings are saved.")
        return redirect("notifications:preferences")
    return render(request, "support/notification_preferences.html", {"form": form})
