"""Typed results of API v2 calls. Money is Decimal, provider IDs are always str.

``raw`` keeps the provider's item as parsed from JSON (for audit and for fields we do not
model); it is left out of equality, hashing and repr so results stay comparable and logs short.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .status import OrderStatus, RefillStatus, ServiceType


@dataclass(frozen=True)
class Service:
    service_id: str
    name: str
    type: ServiceType
    type_raw: str
    category: str
    rate: Decimal  # price per 1000 units, in the provider's currency
    min: int
    max: int
    refill: bool = False
    cancel: bool = False
    dripfeed: bool = False
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class SkippedItem:
    """A services-list item we could not use, and why (so staff can see what was dropped)."""

    raw: object
    reason: str


@dataclass(frozen=True)
class ServiceList:
    services: list[Service]
    skipped: list[SkippedItem] = field(default_factory=list)

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services)

    def __len__(self) -> int:
        return len(self.services)

    def by_id(self) -> dict[str, Service]:
        return {service.service_id: service for service in self.services}


@dataclass(frozen=True)
class OrderStatusInfo:
    order_id: str
    status: OrderStatus
    status_raw: str
    charge: Decimal | None
    start_count: int | None  # None when missing, unparseable or negative
    remains: int | None  # None when missing, unparseable ("Unknown", "") or negative
    currency: str | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ItemError:
    """One item of a multi-ID answer failed; the rest of the batch is unaffected."""

    message: str


@dataclass(frozen=True)
class RefillStatusInfo:
    refill_id: str
    status: RefillStatus
    status_raw: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    currency: str  # "" when the provider does not say
