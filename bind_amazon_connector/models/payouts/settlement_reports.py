"""The deposit of each settlement: from Amazon's V2 settlement reports (when the seller has them) and from the
transfer transactions. The reports' rows are parsed in ``utils/settlement.py``.

Plain functions taking the connection (``amazon.account``).
"""
import logging
from datetime import timedelta, timezone

from odoo import fields

from ...spapi import errors as spapi_errors
from ...utils.settlement import parse_report_amount, parse_report_date, settlement_report_summaries

_logger = logging.getLogger(__name__)

SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


def read_deposits(account, api_client, since):
    """Deposit date and amount of each settlement, from Amazon's settlement reports created since ``since``
    (less 30 days) and from transfer transactions."""
    account.ensure_one()
    apply_transfer_deposits(account)
    if not hasattr(api_client, "iter_reports"):
        return
    try:
        reports = list(api_client.iter_reports(
            report_types=[SETTLEMENT_REPORT],
            created_since=(since - timedelta(days=30)).replace(tzinfo=timezone.utc),
        ))
    except spapi_errors.RetryLater:
        raise
    except spapi_errors.SpApiError as exc:
        # not every seller has settlement reports (they need the Finance and Accounting role)
        _logger.info("No settlement reports for %s: %s", account.name, exc)
        return
    read = set(account.settlement_ids.mapped("report_ref"))
    for report in reports:
        if not report.is_done or not report.report_document_id or report.report_id in read:
            continue
        rows = api_client.iter_report_rows(report.report_document_id)
        apply_settlement_report(account, rows, report_id=report.report_id)


def apply_transfer_deposits(account):
    """The deposit of each settlement Amazon reported no report for: its transfers to the bank."""
    for settlement in account.settlement_ids.filtered(lambda s: s.deposit_source in (False, "transfer")):
        transfers = settlement.line_ids.filtered(lambda ln: ln.category == "transfer")
        if not transfers:
            continue
        amount = -sum(transfers.mapped("amount"))  # money leaving Amazon's balance for the bank
        last = max(transfers.mapped("posted_date") or [False]) or False
        settlement._set_deposit(amount, fields.Date.to_date(last) if last else False, "transfer")


def apply_settlement_report(account, rows, report_id=None):
    """A V2 settlement report: its summary row (the one with total-amount) gives the deposit of the
    settlement. Amazon's settlement id may differ from the financial event group id the transactions
    carry: the report's order ids then find the settlement."""
    account.ensure_one()
    env = account.env
    Settlement = env["amazon.settlement"]
    summaries, orders = settlement_report_summaries(rows)
    for row in summaries:
        ref, total = row["settlementid"], row["totalamount"]
        amount = parse_report_amount(total)
        if amount is None:
            _logger.warning("Settlement %s: total-amount %r is not a number", ref, total)
            continue
        settlement = Settlement.search([
            ("account_id", "=", account.id), "|", ("name", "=", ref), ("settlement_ref", "=", ref),
        ], limit=1)
        if not settlement and orders.get(ref):
            candidates = env["amazon.settlement.transaction"].search([
                ("account_id", "=", account.id), ("amazon_order_id", "in", list(orders[ref])),
                ("settlement_id", "!=", False),
            ]).settlement_id.filtered(lambda s: not s.settlement_ref)
            if len(candidates) == 1:
                settlement = candidates
        currency = env["res.currency"].search([("name", "=", row.get("currency") or "")], limit=1) \
            or account.marketplace_id.currency_id or account.company_id.currency_id
        if not settlement:
            settlement = Settlement.create({"account_id": account.id, "name": ref, "currency_id": currency.id})
        vals = {
            "settlement_ref": ref,
            "report_ref": report_id,
            "start_date": parse_report_date(row.get("settlementstartdate")),
            "end_date": parse_report_date(row.get("settlementenddate")),
        }
        settlement.write({k: v for k, v in vals.items() if v and settlement[k] != v})
        deposit = parse_report_date(row.get("depositdate"))
        settlement._set_deposit(amount, deposit.date() if deposit else False, "report")
