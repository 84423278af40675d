"""The messages /api/v2 refuses with, as `{"error": message}` at HTTP 200: the standard v2 wordings.

Refusals that come from orders.services (quantity limits, funds, link) carry their own standard wording in
`OrderRefused.api_message`; these are the ones the API itself decides.
"""

INVALID_KEY = "Invalid API key"
ADDRESS_NOT_ALLOWED = "This address may not use this API key"  # the key's allow-list (API page)
INCORRECT_REQUEST = "Incorrect request"
INCORRECT_SERVICE = "Incorrect service ID"
INCORRECT_ORDER = "Incorrect order ID"
REFILL_NOT_FOUND = "Refill not found"
TOO_MANY_IDS = "Too many IDs (100 at most)"
TOO_MANY_REQUESTS = "Too many requests"
INTERNAL_ERROR = "Internal error, try again later"


class ApiError(Exception):
    """A refusal of the whole request; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
