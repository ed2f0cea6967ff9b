"""Small conversions of the SP-API layer's typed values into what Odoo fields store."""
from datetime import timezone
from decimal import Decimal


def naive_utc(value):
    """An Odoo Datetime value (naive UTC, whole seconds) from an aware datetime; False when empty."""
    if not value:
        return False
    if value.tzinfo:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0)


def money_amount(money):
    """The Decimal amount of a ``spapi.values.Money``, zero when Amazon sent none."""
    return money.amount if money is not None and money.amount is not None else Decimal(0)
