"""The addon's plain helpers (bind_amazon_connector/utils): no Odoo needed."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bind_amazon_connector.spapi.values import Money
from bind_amazon_connector.utils.listing_rows import RowError, barcode_variants, parse_price, parse_quantity
from bind_amazon_connector.utils.settlement import norm, transaction_kind
from bind_amazon_connector.utils.text import plain_text
from bind_amazon_connector.utils.values import money_amount, naive_utc


@pytest.mark.parametrize("text, expected", [
    ("1299.00", Decimal("1299.00")), ("1,299.00", Decimal("1299.00")), ("1.299,00", Decimal("1299.00")),
    ("1299,5", Decimal("1299.5")), ("$1,299.00", Decimal("1299.00")), ("349.00 MXN", Decimal("349.00")),
    ("", None),
])
def test_prices_in_every_notation_amazon_writes(text, expected):
    assert parse_price(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3", "12,34,5"])
def test_unreadable_prices_are_refused_with_the_value(text):
    with pytest.raises(RowError) as caught:
        parse_price(text)
    assert caught.value.code == "bad_price"
    assert caught.value.value == text


def test_quantities():
    assert parse_quantity("7") == 7
    assert parse_quantity("") is None
    for bad in ("siete", "-1", "2.5"):
        with pytest.raises(RowError):
            parse_quantity(bad)


def test_upc_a_and_its_ean_13_form_match():
    assert barcode_variants("012345678905") == {"012345678905", "0012345678905"}
    assert barcode_variants("0012345678905") == {"0012345678905", "012345678905"}
    assert barcode_variants("") == set()


def test_naive_utc_converts_and_drops_microseconds():
    aware = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=timezone(timedelta(hours=-6)))
    assert naive_utc(aware) == datetime(2026, 1, 2, 9, 4, 5)
    assert naive_utc(None) is False


def test_money_amount_is_zero_when_amazon_sends_none():
    assert money_amount(None) == Decimal(0)
    assert money_amount(Money(Decimal("12.50"), "MXN")) == Decimal("12.50")


def test_transaction_kinds_ignore_case_and_separators():
    assert norm("Service_Fee ") == "servicefee"
    assert transaction_kind("Shipment") == "sale"
    assert transaction_kind("Refund") == "refund"


@pytest.mark.parametrize("raw, expected", [
    ("Sombrero charro bordado <b>hecho a mano</b>", "Sombrero charro bordado hecho a mano"),
    ("Café &amp; té <br/>orgánico", "Café & té orgánico"),
    ("Taza&nbsp;350&#160;ml &quot;Talavera&quot;", 'Taza 350 ml "Talavera"'),
    ("<p>Mochila</p><p>escolar</p>", "Mochila escolar"),
    ('<span style="color:red">Oferta</span> <script>alert(1)</script>Termo', "Oferta Termo"),
    ("Cable 1m<2m", "Cable 1m<2m"),
    ("Caja <grande> azul", "Caja <grande> azul"),
    ("&lt;b&gt;literal&lt;/b&gt;", "<b>literal</b>"),
    ("  Lámpara   LED\n", "Lámpara LED"),
    ("", ""),
    (None, None),
])
def test_plain_text_of_amazon_titles(raw, expected):
    assert plain_text(raw) == expected


def test_held_records_of_this_thread_are_dropped_or_released_and_other_threads_log_freely():
    import logging
    import threading

    from bind_amazon_connector.utils import held_logs

    logger = logging.getLogger("bac.test.held")
    seen = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    handler = Collect()
    logger.addHandler(handler)
    try:
        with held_logs.hold(logger.name) as held:
            logger.error("retried")
            other = threading.Thread(target=logger.error, args=("another worker",))
            other.start()
            other.join()
            assert seen == ["another worker"]  # never hidden from other threads
            assert held.drop() == 1
            logger.error("not retried")
            with held_logs.hold(logger.name):  # nested: released into the outer hold
                logger.error("inner")
            assert seen == ["another worker"]
        assert seen == ["another worker", "not retried", "inner"]  # logged as they were when the block ends
        logger.error("after")
        assert seen[-1] == "after"
        # dropped when the block raises an exception the caller says it retries, logged otherwise
        for exc, logged in ((ValueError("retried"), []), (KeyError("not retried"), ["held"])):
            seen.clear()
            try:
                with held_logs.hold(logger.name, drop_if=lambda e: isinstance(e, ValueError)):
                    logger.error("held")
                    raise exc
            except (ValueError, KeyError):
                pass
            assert seen == logged
    finally:
        logger.removeHandler(handler)
