"""Buyer data kept only as long as Amazon allows.

Amazon's Data Protection Policy: a buyer's personal data may be kept as long as the order needs it, and no
longer than 30 days after delivery, except what tax law requires. Every day a scheduled action erases the
contact data of the orders delivered more than the connection's ``buyer_data_retention_days`` ago:
- on the order's raw Amazon data: the buyer's name and e-mail, the delivery address's name, street, phone
  and delivery instructions (``utils/buyer_data.py``);
- on the customers the import created (``amazon_buyer_key``) once none of their orders still needs them:
  e-mail, phone and street; a consumer's name becomes "Amazon buyer"; a business keeps its RFC, legal name,
  postal code and fiscal regime, which its CFDI needs; delivery addresses keep city, state and country.
It runs in batches, commits each one, can run any number of times (what is erased stays erased and nothing
else changes) and logs counts, never values.
"""
import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ...utils.buyer_data import ADDRESS_KEYS, BUYER_KEYS, without_contact_data

_logger = logging.getLogger(__name__)

BATCH = 500
#: Partner fields holding contact data, erased on every customer the import created.
CONTACT_FIELDS = ("email", "phone", "street", "street2")
#: Mail tracking of these partner fields keeps the old values: deleted with them.
TRACKED_FIELDS = ("email", "phone", "street", "street2", "city", "zip", "name")
#: Amazon statuses after which an order without a delivery in Odoo needs its buyer no more.
CLOSED_STATUSES = ("SHIPPED", "CANCELLED", "UNFULFILLABLE")

#: Amazon orders whose buyer is no longer needed: every delivery of their sales done (or cancelled) before
#: their connection's cutoff; without any delivery, closed on Amazon before it.
_FINISHED_ORDERS = """
    SELECT o.id
      FROM amazon_order o
      JOIN amazon_account a ON a.id = o.account_id
     WHERE o.state IN ('imported', 'skipped', 'cancelled', 'error')
       AND CASE WHEN EXISTS (SELECT 1 FROM sale_order so JOIN stock_picking p ON p.sale_id = so.id
                              WHERE so.amazon_order_id = o.id)
                THEN NOT EXISTS (
                    SELECT 1 FROM sale_order so JOIN stock_picking p ON p.sale_id = so.id
                     WHERE so.amazon_order_id = o.id
                       AND (p.state NOT IN ('done', 'cancel')
                            OR COALESCE(p.date_done, p.write_date)
                               >= %(now)s - make_interval(days => COALESCE(a.buyer_data_retention_days, 30))))
                ELSE o.amazon_status IN %(closed)s
                     AND COALESCE(o.last_update_date, o.purchase_date, o.create_date)
                         < %(now)s - make_interval(days => COALESCE(a.buyer_data_retention_days, 30))
           END
"""


class AmazonBuyerData(models.AbstractModel):
    _name = "amazon.buyer.data"
    _description = "Amazon Buyer Data Retention"

    @api.model
    def _cron_erase(self):
        """Scheduled action: erase, batch by batch, the buyer contact data no order needs any more."""
        orders = partners = 0
        while True:
            erased_orders = self._erase_orders()
            erased_partners = self._erase_partners() if len(erased_orders) < BATCH else self.env["res.partner"]
            orders += len(erased_orders)
            partners += len(erased_partners)
            done = len(erased_orders) + len(erased_partners)
            if not done:
                break
            # run by the scheduler: each batch committed, within the job's time; called directly (a test, a
            # shell), the whole erasure belongs to the caller's transaction
            if self.env.context.get("cron_id") and self.env["ir.cron"]._commit_progress(done) <= 0:
                break
        _logger.info("Amazon buyer data: erased on %s orders and %s contacts", orders, partners)
        return orders, partners

    @api.model
    def _finished_order_ids(self):
        """Ids of the Amazon orders whose buyer contact data may go (all connections, each its own window)."""
        return SQL(_FINISHED_ORDERS, now=fields.Datetime.now(), closed=CLOSED_STATUSES)

    @api.model
    def _erase_orders(self):
        """One batch: the raw Amazon data of finished orders, without the buyer's contact data."""
        buyer_keys, address_keys = sorted(BUYER_KEYS), sorted(ADDRESS_KEYS)
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """SELECT o.id FROM amazon_order o
                WHERE o.id IN (%(finished)s)
                  AND (o.payload -> 'buyer' ?| %(buyer)s OR o.payload -> 'BuyerInfo' ?| %(buyer)s
                       OR o.payload -> 'recipient' -> 'deliveryAddress' ?| %(address)s
                       OR o.payload -> 'recipient' ? 'deliveryPreference'
                       OR o.payload -> 'ShippingAddress' ?| %(address)s)
                ORDER BY o.id LIMIT %(batch)s""",
            finished=self._finished_order_ids(), buyer=buyer_keys, address=address_keys, batch=BATCH))
        orders = self.env["amazon.order"].sudo().browse([row[0] for row in self.env.cr.fetchall()])
        for order in orders:
            order.payload = without_contact_data(order.payload)
        return orders

    @api.model
    def _erase_partners(self):
        """One batch: the customers the import created whose every sale belongs to a finished Amazon order."""
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """WITH finished AS (%(finished)s),
                    refs AS (SELECT unnest(ARRAY[so.partner_id, so.partner_shipping_id, so.partner_invoice_id]) AS pid,
                                    COALESCE(so.amazon_order_id IN (SELECT id FROM finished), FALSE) AS done
                               FROM sale_order so)
               SELECT p.id FROM res_partner p JOIN refs r ON r.pid = p.id
                WHERE p.amazon_buyer_key IS NOT NULL
                  AND (p.email IS NOT NULL OR p.phone IS NOT NULL OR p.street IS NOT NULL OR p.street2 IS NOT NULL)
                GROUP BY p.id HAVING bool_and(r.done)
                ORDER BY p.id LIMIT %(batch)s""",
            finished=self._finished_order_ids(), batch=BATCH))
        partners = self.env["res.partner"].sudo().browse([row[0] for row in self.env.cr.fetchall()])
        quiet = partners.with_context(tracking_disable=True, mail_notrack=True, mail_create_nolog=True)
        for partner in quiet:
            vals = dict.fromkeys(CONTACT_FIELDS, False)
            if partner.type == "delivery":
                vals.update(name=self.env._("Amazon delivery address"), zip=False)
            elif not partner.vat:
                vals.update(name=self.env._("Amazon buyer"), city=False, zip=False)
            else:
                vals.update(city=False)  # a business keeps its RFC, legal name and postal code for its CFDI
            partner.write(vals)
        if partners:
            self.env.cr.execute(SQL(
                """DELETE FROM mail_tracking_value v USING mail_message m, ir_model_fields f
                    WHERE v.mail_message_id = m.id AND v.field_id = f.id
                      AND m.model = 'res.partner' AND m.res_id IN %(ids)s
                      AND f.model = 'res.partner' AND f.name IN %(fields)s""",
                ids=tuple(partners.ids), fields=TRACKED_FIELDS))
        return partners
