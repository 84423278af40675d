"""What a cycle or a batch did; printed by poll_orders, returned by tasks."""

import threading
from dataclasses import dataclass, field

COUNTS = ("calls", "polled", "changed", "refunded", "item_errors", "failed_calls", "retried_calls", "refills_sent",
          "refills_polled", "cancels_sent")


@dataclass
class Report:
    calls: int = 0
    polled: int = 0
    changed: int = 0
    refunded: int = 0
    item_errors: int = 0
    failed_calls: int = 0
    retried_calls: int = 0
    refills_sent: int = 0
    refills_polled: int = 0
    cancels_sent: int = 0
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, **increments: int) -> None:
        """Add to counts from any thread (on PostgreSQL writes run on threads of their own)."""
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)

    def count_written(self, changed: int, refunded: int) -> None:
        self.count(changed=changed, refunded=refunded)

    def add(self, other: "Report") -> None:
        self.count(**{name: getattr(other, name) for name in COUNTS})
        self.errors.extend(other.errors)

    def __str__(self):
        text = (f"{self.calls} provider calls, {self.polled} orders polled, {self.changed} changed, "
                f"{self.refunded} refunded, {self.item_errors} per-item errors, {self.failed_calls} failed calls, "
                f"{self.retried_calls} retried, {self.refills_sent} refills sent, {self.refills_polled} refills "
                f"polled, {self.cancels_sent} cancels sent")
        return text + "".join(f"\n  {e}" for e in self.errors)
