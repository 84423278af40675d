"""SMM panel API v2 protocol client: plain Python (requests), no Django.

See errors.py for the three failure kinds, status.py for the vocabulary, types.py for
results, parsing.py for the tolerant parsers and client.py for the HTTP client.
"""

from .client import MAX_IDS_PER_REQUEST, Client, Transport
from .errors import (
    PROVIDER_SIDE_MARKERS,
    Ambiguous,
    NotSent,
    ProviderRefused,
    SmmApiError,
    is_provider_side_refusal,
    is_transient_refusal,
)
from .parsing import MISSING_FROM_ANSWER
from .status import (
    SERVICE_TYPE_FIELDS,
    OrderStatus,
    RefillStatus,
    ServiceType,
    normalize_order_status,
    normalize_refill_status,
    normalize_service_type,
)
from .types import (
    Balance,
    ItemError,
    OrderStatusInfo,
    RefillStatusInfo,
    Service,
    ServiceList,
    SkippedItem,
)

__all__ = [
    "MAX_IDS_PER_REQUEST",
    "MISSING_FROM_ANSWER",
    "PROVIDER_SIDE_MARKERS",
    "SERVICE_TYPE_FIELDS",
    "Ambiguous",
    "Balance",
    "Client",
    "ItemError",
    "NotSent",
    "OrderStatus",
    "OrderStatusInfo",
    "ProviderRefused",
    "RefillStatus",
    "RefillStatusInfo",
    "Service",
    "ServiceList",
    "ServiceType",
    "SkippedItem",
    "SmmApiError",
    "Transport",
    "is_provider_side_refusal",
    "is_transient_refusal",
    "normalize_order_status",
    "normalize_refill_status",
    "normalize_service_type",
]
