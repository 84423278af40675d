"""The error messages the sandbox answers with, as `{"error": message}` at HTTP 200.

They are the standard v2 wordings, so the panel's client meets what real providers send.
"""

INVALID_KEY = "Invalid API key"
INCORRECT_REQUEST = "Incorrect request"
INCORRECT_SERVICE = "Incorrect service ID"
INCORRECT_LINK = "Incorrect link"
NOT_ENOUGH_FUNDS = "Not enough funds on balance"
INCORRECT_ORDER = "Incorrect order ID"
REFILL_NOT_FOUND = "Refill not found"
TOO_MANY_IDS = "Too many IDs"
NOT_REFILLABLE = "Refill is not available for this order"
REFILL_RUNNING = "Refill is already in progress"
NOT_CANCELABLE = "Order cannot be canceled"


def quantity_below(minimum: int) -> str:
    return f"Quantity less than minimal {minimum}"


def quantity_above(maximum: int) -> str:
    return f"Quantity more than maximal {maximum}"


class ApiError(Exception):
    """A refusal the API answers with `{"error": message}`; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
