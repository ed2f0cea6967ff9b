"""Shipment confirmations of merchant-fulfilled orders: one ``amazon.shipment`` per delivery validated in Odoo.

Validating a delivery only queues its package (an INSERT in the user's transaction, nothing waits on Amazon);
the scheduled action sends it with ``confirmShipment`` and is triggered at once. Each package is sent exactly
once: the sender holds the connection (advisory lock), marks the package "sending" and commits before the
call, and records the answer and commits right after. A package found "sending" by a later run was
interrupted between the call and the commit: Amazon's order tells whether it got it (our package reference
among its packages) before anything is sent again.
"""
import logging
from datetime import timedelta

from psycopg2.errors import SerializationFailure

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ...spapi import errors as spapi_errors
from ...spapi.shipments import ShipmentPackage
from ...utils.crashpoints import crashpoint
from ..connection.access import AMAZON_USER, check_group

_logger = logging.getLogger(__name__)

#: Advisory lock namespace of the shipment sender (the stock flow uses its own).
LOCK_NAMESPACE = 47_014
#: Packages sent per connection and run; a scheduled run stops starting packages when less time is left.
BATCH_LIMIT = 500
MIN_SECONDS_LEFT = 30
#: A refused authorization or a setting Amazon needs: a person acts, the package is tried again this much later.
DEFAULT_RETRY = timedelta(minutes=5)
#: Amazon could not be used (throttled, no answer, a server error) after what the SP-API layer retried: the
#: package is tried again RETRY_BASE later (a late confirmation counts against the seller's late shipment
#: rate), doubling with each attempt of the package, at most RETRY_MAX; never before Amazon's own hint.
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)
CRON_XMLID = "bind_amazon_connector.ir_cron_amazon_send_shipments"
ACTIVITY_TYPE = "mail.mail_activity_data_warning"

STATES = [
    ("pending", "To send"),
    ("sending", "Sending"),
    ("done", "Confirmed on Amazon"),
    ("error", "Refused"),
    ("cancelled", "Not sent"),
]
#: States of a package still to be confirmed on Amazon (the "not confirmed" filters).
OPEN_STATES = ("pending", "sending", "error")


class ShipmentDataError(UserError):
    """The delivery lacks what Amazon needs (carrier code, items): kept in error, nothing is sent."""


class AmazonShipment(models.Model):
    _name = "amazon.shipment"
    _description = "Amazon Shipment Confirmation"
    _order = "id desc"
    _inherit = ["amazon.company.guard"]
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")
    picking_id = fields.Many2one("stock.picking", string="Delivery", required=True, readonly=True, index=True,
                                 ondelete="cascade", check_company=True)
    amazon_order_id = fields.Many2one("amazon.order", string="Amazon Order", required=True, readonly=True,
                                      index=True, ondelete="cascade", check_company=True)
    account_id = fields.Many2one(related="amazon_order_id.account_id", store=True, index=True, string="Connection")
    company_id = fields.Many2one(related="amazon_order_id.company_id", store=True)
    package_reference = fields.Char(
        string="Package Reference", required=True, readonly=True,
        help="The number that identifies this package within the Amazon order (the delivery's id).",
    )
    items = fields.Json(string="Package Content", readonly=True,
                        help="The order items and units of this package: [[order item id, units]].")
    items_text = fields.Char(string="Items", compute="_compute_items_text")
    state = fields.Selection(STATES, default="pending", required=True, readonly=True, index=True)
    message = fields.Text(readonly=True, help="Amazon's reason for a refusal, or why the package waits.")
    carrier_code = fields.Char(string="Carrier Code Sent", readonly=True)
    tracking_number = fields.Char(string="Tracking Number Sent", readonly=True)
    attempt_count = fields.Integer(string="Attempts", readonly=True)
    next_attempt_date = fields.Datetime(string="Next Attempt", readonly=True)
    sent_date = fields.Datetime(string="Confirmed On", readonly=True)

    # One confirmation per delivery, however often it is validated, touched or retried.
    _picking_unique = models.Constraint("UNIQUE(picking_id)", "A delivery is confirmed on Amazon only once.")

    @api.depends("amazon_order_id.name", "package_reference")
    def _compute_name(self):
        for shipment in self:
            shipment.name = f"{shipment.amazon_order_id.name} / {shipment.package_reference}"

    @api.depends("items")
    def _compute_items_text(self):
        for shipment in self:
            shipment.items_text = ", ".join(f"{item_id} × {qty}" for item_id, qty in shipment.items or [])

    # ------------------------------------------------------------------ queueing (the validation's transaction)

    @api.model
    def _enqueue(self, pickings):
        """Queue the packages of validated deliveries that Odoo confirms on Amazon. Returns the new rows."""
        vals = []
        existing = set(self.sudo().search([("picking_id", "in", pickings.ids)]).picking_id.ids)
        for picking in pickings.sudo():
            if picking.id in existing or picking.state != "done":
                continue
            amazon_order = picking._amazon_order_to_confirm()
            if not amazon_order:
                continue
            items = picking._amazon_package_items()
            if not items:
                continue
            vals.append({"picking_id": picking.id, "amazon_order_id": amazon_order.id,
                         "package_reference": str(picking.id), "items": items})
        if not vals:
            return self.browse()
        shipments = self.sudo().create(vals)
        # Sent by the scheduled action right after this transaction commits, never inside it.
        self.env.ref(CRON_XMLID).sudo()._trigger()
        return shipments

    # ------------------------------------------------------------------ user actions

    def action_retry(self):
        """Send refused or waiting packages again (after the carrier or tracking number was fixed)."""
        check_group(self.env, AMAZON_USER, message=_("Only Amazon users can retry shipment confirmations."))
        self.check_access("read")
        self._retry()
        return True

    def _retry(self):
        todo = self.sudo().filtered(lambda s: s.state in ("error", "pending"))
        todo.write({"state": "pending", "next_attempt_date": False})
        if todo:
            self.env.ref(CRON_XMLID).sudo()._trigger()
        return todo

    # ------------------------------------------------------------------ sending (the scheduled action)

    @api.model
    def _cron_send(self):
        """Every connection with packages due, each package committed on its own."""
        self.flush_model()
        self.env.cr.execute(SQL(
            "SELECT DISTINCT account_id FROM amazon_shipment WHERE state IN ('pending', 'sending') "
            "AND (next_attempt_date IS NULL OR next_attempt_date <= %s)", fields.Datetime.now()))
        accounts = self.env["amazon.account"].sudo().browse([r[0] for r in self.env.cr.fetchall()])
        cron = self.env["ir.cron"]
        more = False
        for account in accounts.filtered(lambda a: a.active and a.state == "authorized").sorted("id"):
            result = self._send_due(account, commit=cron._commit_progress)
            more = more or bool(result.get("more"))
            if result.get("out_of_time"):
                break
        if more:
            cron._commit_progress(remaining=1)

    @api.model
    def _send_lock(self, account):
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", LOCK_NAMESPACE, account.id))
        return bool(self.env.cr.fetchone()[0])

    @api.model
    def _send_due(self, account, *, commit=None, limit=BATCH_LIMIT):
        """Send the due packages of ``account``. ``commit(processed) -> seconds left`` is called before and after
        each call to Amazon (scheduled action); without it everything belongs to the caller's transaction.
        Returns counts (done, error, cancelled, waiting) and ``busy``, ``more``, ``error``."""
        account = account.sudo().with_context(lang=account.user_id.lang or self.env.lang)
        self = self.sudo().with_env(account.env)
        result = {"done": 0, "error": 0, "cancelled": 0, "waiting": 0, "more": False}
        if not self._send_lock(account):
            result["busy"] = True
            return result
        now = fields.Datetime.now()
        due = self.search([
            ("account_id", "=", account.id), ("state", "in", ("pending", "sending")),
            "|", ("next_attempt_date", "=", False), ("next_attempt_date", "<=", now),
        ], order="id", limit=limit + 1)
        if not due:
            return result
        if len(due) > limit:
            due, result["more"] = due[:limit], True
        try:
            api_client = account._spapi()
        except (UserError, spapi_errors.SpApiError) as exc:
            result["error"] = str(exc.args[0] if isinstance(exc, UserError) and exc.args else exc)
            due._wait(result["error"])
            return result
        for index, shipment in enumerate(due):
            outcome = shipment._send_one(api_client, commit)
            if outcome == "busy":
                result["more"] = True
                break
            if outcome == "stop":
                # Amazon throttles or cannot be reached: the others wait as long, the usage plan needs it.
                due[index + 1:]._postpone(shipment.message, shipment.next_attempt_date)
            result[outcome if outcome in result else "waiting"] += 1
            if commit:
                seconds_left = commit(1)
                if not self._send_lock(account):
                    result["more"] = True
                    break  # another worker took the connection after the commit
                if seconds_left < MIN_SECONDS_LEFT:
                    result["more"] = result["out_of_time"] = True
                    break
            if outcome == "stop":
                break  # Amazon cannot be used now: the rest waits for the next run
        return result

    def _send_one(self, api_client, commit=None):
        """Confirm one package. Returns "done", "error", "cancelled", "stop" (Amazon unavailable) or "busy"
        (another worker took the connection at a commit)."""
        self.ensure_one()
        amazon_order = self.amazon_order_id
        if self.state == "sending":
            try:
                if self._amazon_has_package(api_client):
                    return self._done()
            except spapi_errors.RetryLater as exc:
                # Unknown whether Amazon has it: sending again could ship it twice, so wait for Amazon.
                self._wait(str(exc), self._retry_date(exc.retry_after))
                return "stop"
            except (spapi_errors.AuthorizationError, spapi_errors.ConfigurationError) as exc:
                self._wait(str(exc), fields.Datetime.now() + DEFAULT_RETRY)
                return "stop"
        reason = self._not_needed_reason()
        if reason:
            return self._cancel(reason)
        try:
            package = self._package()
        except ShipmentDataError as exc:
            return self._refused(exc.args[0])
        self.write({"state": "sending", "attempt_count": self.attempt_count + 1,
                    "carrier_code": package.carrier_code, "tracking_number": package.tracking_number or False})
        if commit:
            commit(0)  # "sending" is on record before Amazon may have the package
            if not self._send_lock(self.account_id):
                return "busy"  # the commit let another worker take the connection: it checks this package
        try:
            api_client.confirm_shipment(amazon_order.name, package,
                                        marketplace_id=amazon_order.marketplace_id.marketplace_id or None)
        except spapi_errors.RetryLater as exc:
            self._wait(_("Amazon could not take the confirmation now, it is sent again later: %s", exc),
                       self._retry_date(exc.retry_after))
            if exc.status != 429:
                # A timeout or an Amazon failure may still have confirmed it: the next run asks Amazon first.
                self.write({"state": "sending"})
            return "stop"
        except (spapi_errors.AuthorizationError, spapi_errors.ConfigurationError) as exc:
            self._wait(str(exc), fields.Datetime.now() + DEFAULT_RETRY)
            return "stop"
        except spapi_errors.BadData as exc:
            # Refused because Amazon already has these units shipped (a resend after a lost answer, or the
            # seller confirmed them in Seller Central meanwhile): Amazon's order tells, nobody needs to act.
            if self._amazon_has_package_quietly(api_client):
                return self._done()
            # Refused (NotFound included): Amazon's reason stays on the delivery until someone fixes and retries.
            return self._refused(_("Amazon refused the shipment confirmation: %s", exc))
        crashpoint("shipments.sent")  # Amazon has the package, our record does not say so yet
        return self._done()

    def _done(self):
        self.write({"state": "done", "message": False, "next_attempt_date": False,
                    "sent_date": fields.Datetime.now()})
        if self.carrier_code:
            note = _("Confirmed on Amazon: carrier %(carrier)s, tracking number %(tracking)s.",
                     carrier=self.carrier_code, tracking=self.tracking_number or "-")
        else:
            note = _("Confirmed on Amazon.")
        self._close_activity(note)
        return "done"

    def _cancel(self, reason):
        """Nothing to send any more (Amazon shipped or cancelled the order by other means): the refusal's
        activity, if any, is done with the reason."""
        self.write({"state": "cancelled", "message": reason, "next_attempt_date": False})
        self._close_activity(reason)
        return "cancelled"

    def _close_activity(self, note):
        """Mark the "not confirmed on Amazon" activity of the delivery done, saying how it was resolved."""
        self.ensure_one()
        summaries = {self._activity_summary(),
                     self.with_context(lang=self.account_id.user_id.lang or self.env.lang)._activity_summary()}
        self.picking_id.sudo().activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref(ACTIVITY_TYPE) and a.summary in summaries
        ).action_feedback(note)

    def _refused(self, reason):
        self.write({"state": "error", "message": reason, "next_attempt_date": False})
        picking = self.picking_id
        user = self.account_id.user_id or self.env.user
        summary = self._activity_summary()
        if not picking.activity_ids.filtered(lambda a: a.summary == summary and a.user_id == user):
            picking.activity_schedule(ACTIVITY_TYPE, summary=summary, note=reason, user_id=user.id)
        _logger.info("Amazon order %s: shipment confirmation of package %s refused", self.amazon_order_id.name,
                     self.package_reference)
        return "error"

    def _activity_summary(self):
        return _("Shipment not confirmed on Amazon")

    def _retry_date(self, retry_after=None):
        """When to try this package again after Amazon could not be used: RETRY_BASE after its first attempt,
        doubling with each further one, at most RETRY_MAX, and not before ``retry_after`` seconds (Amazon's
        hint or the usage plan's pace)."""
        self.ensure_one()
        delay = min(RETRY_BASE * 2 ** max(self.attempt_count - 1, 0), RETRY_MAX)
        if retry_after:
            delay = max(delay, timedelta(seconds=retry_after))
        return fields.Datetime.now() + delay

    def _wait(self, message, when=None):
        """Still to send (Amazon unavailable): keep the reason and try again at ``when``."""
        self.write({"state": "pending", "message": message, "next_attempt_date": when or False})
        if when:
            self.env.ref(CRON_XMLID).sudo()._trigger(when)

    def _postpone(self, message, when):
        """Amazon cannot be used now: these packages, not tried in this run, wait until ``when`` as well. Their
        state stays (a package "sending" is still looked for on Amazon first). A package another job changed
        since this transaction began (the orders import closes those of orders Amazon reports shipped) is left
        as that job wrote it: the next run reads it again."""
        try:
            with self.env.cr.savepoint():
                self.invalidate_recordset(["state"])
                self.filtered(lambda s: s.state in ("pending", "sending")).write(
                    {"message": message, "next_attempt_date": when})
        except SerializationFailure:
            _logger.info("Amazon shipments %s changed by another job meanwhile: not postponed", self.ids)

    def _not_needed_reason(self):
        """Why nothing must be sent for this package any more, or False."""
        self.ensure_one()
        amazon_order = self.amazon_order_id
        if amazon_order.fulfillment_channel != "merchant":
            return _("Amazon fulfills this order (FBA): nothing to confirm.")
        if amazon_order.state == "cancelled" or amazon_order.amazon_status == "CANCELLED":
            return _("The order was cancelled on Amazon: the shipment was not confirmed.")
        if amazon_order.amazon_status == "SHIPPED":
            return _("Amazon already reports the whole order shipped: nothing more to confirm.")
        return False

    def _package(self):
        """The ``ShipmentPackage`` of this delivery, read now (a fixed carrier is taken into account)."""
        self.ensure_one()
        picking = self.picking_id
        carrier = picking.carrier_id
        if not carrier:
            raise ShipmentDataError(_("Set the carrier of the delivery %s: Amazon requires it.", picking.name))
        if not carrier.amazon_carrier_code:
            raise ShipmentDataError(_(
                "Set the Amazon carrier code of the carrier %s (its form, Amazon tab): Amazon requires it.",
                carrier.name))
        items = tuple((item_id, int(qty)) for item_id, qty in self.items or [])
        try:
            return ShipmentPackage(
                package_reference_id=self.package_reference,
                carrier_code=carrier.amazon_carrier_code,
                carrier_name=carrier.amazon_carrier_name or carrier.name,
                shipping_method=carrier.amazon_shipping_method or None,
                tracking_number=(picking.carrier_tracking_ref or "").strip(),
                ship_date=picking.date_done or fields.Datetime.now(),
                items=items,
            )
        except ValueError as exc:
            raise ShipmentDataError(_("The package cannot be confirmed on Amazon: %s", exc)) from exc

    def _amazon_has_package(self, api_client):
        """Whether Amazon already has this package (a run stopped between the call and its commit): our package
        reference among the order's packages, or shipped quantities covering this package on top of the ones
        confirmed before. Raises RetryLater when Amazon cannot tell now."""
        try:
            order = api_client.get_order(self.amazon_order_id.name)
        except spapi_errors.BadData:
            return False
        if any(str(p.package_reference_id) == self.package_reference for p in order.packages or ()):
            return True
        expected = {}
        confirmed = self.amazon_order_id.shipment_ids.filtered(lambda s: s.state == "done") | self
        for item_id, qty in [pair for shipment in confirmed for pair in shipment.items or []]:
            expected[item_id] = expected.get(item_id, 0) + qty
        shipped = {item.order_item_id: item.quantity_shipped or 0 for item in order.items}
        return all(shipped.get(item_id, 0) >= qty for item_id, qty in expected.items())

    def _amazon_has_package_quietly(self, api_client):
        try:
            return self._amazon_has_package(api_client)
        except spapi_errors.SpApiError:
            return False

    # ------------------------------------------------------------------ the import closes what Amazon did itself

    @api.model
    def _close_for_orders(self, amazon_orders):
        """Packages still open of orders Amazon now reports shipped or cancelled are not sent any more."""
        open_ones = self.sudo().search([("amazon_order_id", "in", amazon_orders.ids), ("state", "in", OPEN_STATES)])
        for shipment in open_ones:
            reason = shipment._not_needed_reason()
            if reason and shipment.state != "sending":
                shipment._cancel(reason)
