"""Deterministic misbehaviour for tests: queue a fault, and the next matching API request suffers it.

Kinds (sandbox.models.FaultKind):
- html_500 / html_502: an HTML error page at that status; the action is NOT performed.
- refuse: HTTP 200 `{"error": message}` (default "Not enough funds on balance"); NOT performed.
- broken_json: the action IS performed, then the answer is cut short so it is not JSON: an `add` really
  created the order, which is what makes the client's position ambiguous.
- slow: performed, then the answer waits `seconds` (for client read timeouts).
- drop: performed, then the connection is dropped mid-body.
"""

from django.db.models import F

from .models import FaultKind, SandboxFault

ANY_ACTION = "*"
DEFAULT_REFUSAL = "Not enough funds on balance"
# How often `take` looks again when a concurrent request consumed the fault it found first.
TAKE_ATTEMPTS = 5


def inject(
    kind: str, *, action: str = ANY_ACTION, times: int = 1, message: str = "", seconds: float = 0
) -> SandboxFault:
    if kind not in FaultKind.values:
        raise ValueError(f"unknown sandbox fault kind {kind!r}; known: {', '.join(FaultKind.values)}")
    if kind == FaultKind.REFUSE and not message:
        message = DEFAULT_REFUSAL
    return SandboxFault.objects.create(
        kind=kind, action=action, times=times, message=message, seconds=seconds
    )


def clear() -> None:
    SandboxFault.objects.all().delete()


def take(*, action: str) -> SandboxFault | None:
    """Consume one use of the oldest fault for `action` (or any action), or None when none is queued."""
    for _ in range(TAKE_ATTEMPTS):
        fault = (
            SandboxFault.objects.filter(times__gt=0, action__in=[action, ANY_ACTION]).order_by("id").first()
        )
        if fault is None:
            return None
        # Conditional decrement: two requests racing for a fault's last use cannot both get it.
        if SandboxFault.objects.filter(pk=fault.pk, times__gt=0).update(times=F("times") - 1):
            return fault
    return None
