"""Values every API shares (:class:`Money`, :class:`DateTimeRange`) and the readers of Amazon's JSON fields
the parsers of every API use.

Tolerant of optional fields (absent, null, or an empty string for optional dates), strict on what the models
require: a missing required field, a wrong JSON type or an unparsable number or date raises :class:`BadData`
whose message names the object and field path (``order 123-...: orderItems[0].quantityOrdered``) but never a
value, so buyer data cannot leak into logs.

Amounts may come as strings (Orders, Listings: ``Decimal`` strings) or JSON numbers (Finances ``BigDecimal``);
numbers are converted through ``repr`` so 19.99 stays Decimal("19.99").

Conventions of the types of every API (frozen dataclasses built by each API's ``parse_*`` functions)
- Money is :class:`Money` (``Decimal`` amount + ISO 4217 currency); amounts keep Amazon's sign (DISCOUNT
  proceeds are negative, fees in finances are negative).
- Datetimes are timezone-aware (UTC when Amazon gives no offset).
- Optional data Amazon did not send is ``None`` (scalars) or an empty tuple (lists).
- Every top-level object keeps ``raw``: the JSON dict it was built from, for audit (JSON-serialisable as is).
- Names follow Amazon's models in snake_case.
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from .errors import BadData


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self):
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True)
class DateTimeRange:
    earliest: datetime | None
    latest: datetime | None


_MISSING = object()


def _bad(path, problem):
    return BadData(f"Unexpected answer from Amazon: {path} {problem}.")


def _get(d, key, path, required=False):
    value = d.get(key, _MISSING) if isinstance(d, dict) else _MISSING
    if value is _MISSING or value is None:
        if required:
            raise _bad(f"{path}.{key}", "is missing")
        return None
    return value


def _obj(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is not None and not isinstance(value, dict):
        raise _bad(f"{path}.{key}", "is not an object")
    return value


def _list(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(f"{path}.{key}", "is not a list")
    return value


def _str(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _bad(f"{path}.{key}", "is not text")
    value = str(value)
    if required and not value:
        raise _bad(f"{path}.{key}", "is empty")
    return value


def _strs(d, key, path):
    return tuple(_str({"v": v}, "v", f"{path}.{key}[{i}]") or "" for i, v in enumerate(_list(d, key, path)))


def _int(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None:
        return None
    if isinstance(value, bool):
        raise _bad(f"{path}.{key}", "is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _bad(f"{path}.{key}", "is not a whole number")


def _bool(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(f"{path}.{key}", "is not true or false")


def to_decimal(value, path):
    """A Decimal from a JSON string or number; BadData naming ``path`` otherwise."""
    if isinstance(value, bool):
        raise _bad(path, "is not a number")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise _bad(path, "is not a number") from None
        if result.is_finite():
            return result
    raise _bad(path, "is not a number")


def _decimal(d, key, path, required=False):
    value = _get(d, key, path, required)
    return None if value is None else to_decimal(value, f"{path}.{key}")


def to_datetime(value, path):
    """A timezone-aware datetime from ISO 8601 (``Z`` or an offset; naive and date-only mean UTC)."""
    if not isinstance(value, str):
        raise _bad(path, "is not a date")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        result = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(path, "is not an ISO 8601 date") from None
    if result.tzinfo is None:
        result = result.replace(tzinfo=timezone.utc)
    return result


def _dt(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None or (value == "" and not required):
        return None
    return to_datetime(value, f"{path}.{key}")


def parse_money(d, path, amount_key="amount", currency_key="currencyCode"):
    """``Money`` (Orders/Listings) or ``Currency`` (Finances: amount_key="currencyAmount")."""
    if not isinstance(d, dict):
        raise _bad(path, "is not an amount of money")
    amount = _decimal(d, amount_key, path, required=True)
    currency = _str(d, currency_key, path, required=True)
    return Money(amount, currency)


def _money(d, key, path, required=False, **kw):
    value = _obj(d, key, path, required)
    return None if value is None else parse_money(value, f"{path}.{key}", **kw)


def _range(d, key, path):
    value = _obj(d, key, path)
    if value is None:
        return None
    p = f"{path}.{key}"
    return DateTimeRange(_dt(value, "earliestDateTime", p), _dt(value, "latestDateTime", p))


def _items(d, key, path, parse, required=False):
    return tuple(parse(v, f"{path}.{key}[{i}]") for i, v in enumerate(_list(d, key, path, required)))


def _check_obj(d, path):
    if not isinstance(d, dict):
        raise _bad(path, "is not an object")
