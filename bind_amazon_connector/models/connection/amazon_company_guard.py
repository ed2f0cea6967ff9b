"""Two write rules shared by the connector's models, added by listing ``amazon.company.guard`` in ``_inherit``.

- **Records stay in their company.** The fields of :data:`LOCKED_FIELDS` tie a record to its connection,
  company, order, listing or delivery. Once the record has records of its own (a connection with orders,
  listings, payouts or stock pushes; a marketplace line, payout, shipment, listing or stock push always), a
  write that changes them is refused, whoever writes: moving them would hand one company's buyers, money,
  stock or Amazon's confirmations to another.
- **Money fields are written by accountants.** The fields of :data:`ACCOUNTANT_FIELDS` decide what the
  payouts job (superuser) books or from where it reads. Only the synchronisation itself and users of an
  accounting group change them.

A write that leaves the value unchanged passes (the web client sends only what changed, but RPC may not).
"""
from odoo import api, models
from odoo.exceptions import AccessError, UserError

from .access import ACCOUNTANT

#: model: the many2one fields that tie a record to its company (directly or through its connection).
LOCKED_FIELDS = {
    "amazon.account": ("company_id",),
    "amazon.account.marketplace": ("account_id", "marketplace_id"),
    "amazon.settlement": ("account_id",),
    "amazon.shipment": ("amazon_order_id", "picking_id"),
    "amazon.listing": ("account_id", "marketplace_id"),
    "amazon.stock.push": ("account_id", "listing_id"),
    "amazon.return": ("account_id",),
}

#: the records of a connection that keep it in its company (model, field naming the connection)
CONNECTION_RECORDS = (
    ("amazon.order", "account_id"),
    ("amazon.listing", "account_id"),
    ("amazon.settlement", "account_id"),
    ("amazon.stock.push", "account_id"),
    ("amazon.return", "account_id"),
)

#: model: fields only an accountant (or the synchronisation) writes.
ACCOUNTANT_FIELDS = {
    "amazon.account": (
        # the payouts job's progress: moved forward by hand, the job books without reading Amazon
        "finance_sync_date", "finance_last_error",
        # where the payouts job books (journal_id: the article's "Cuenta", the bank the deposits reach)
        "journal_id", "clearing_journal_id", "clearing_account_id", "suspense_account_id", "withholding_iva_account_id",
        "withholding_isr_account_id", "amazon_partner_id", "register_payment_on_post",
        # where the orders' invoices and their payments' cash-basis IVA number, how the released sales are paid
        "sales_journal_id", "cash_basis_journal_id", "payout_payments",
    ),
}


def _id(value):
    return value.id if isinstance(value, models.BaseModel) else (value or False)


class AmazonCompanyGuard(models.AbstractModel):
    _name = "amazon.company.guard"
    _description = "Amazon: records that stay in their company, money fields for accountants"

    @api.model_create_multi
    def create(self, vals_list):
        guarded = {fname for vals in vals_list for fname in ACCOUNTANT_FIELDS.get(self._name, ()) if fname in vals}
        if guarded and not self.env.su and not self.env.user.has_group(ACCOUNTANT):
            # what the form sends unchanged (the defaults) is no one's choice; anything else is
            defaults = self.default_get(list(guarded))
            record = self.browse()
            for vals in vals_list:
                chosen = [fname for fname in guarded if fname in vals
                          and _value_of(record, fname, vals[fname]) != _value_of(record, fname, defaults.get(fname))]
                if chosen:
                    raise AccessError(self.env._(
                        "Only accountants choose %(fields)s of %(record)s: the payouts are booked from them.",
                        fields=", ".join(self._fields[fname]._description_string(self.env) for fname in chosen),
                        record=vals.get("name") or self._description))
        return super().create(vals_list)

    def write(self, vals):
        if self._amazon_guarded(vals):
            self.check_access("write")  # who may not write at all is told so first
        self._amazon_check_locked(vals)
        self._amazon_check_accountant_fields(vals)
        return super().write(vals)

    def _amazon_guarded(self, vals):
        return any(fname in vals for fname in LOCKED_FIELDS.get(self._name, ()) + ACCOUNTANT_FIELDS.get(self._name, ()))

    def _amazon_has_records(self):
        """Whether the record is bound to its company: a connection once it has orders, listings or payouts;
        any other guarded record always."""
        self.ensure_one()
        if self._name != "amazon.account":
            return True
        return any(self.env[model].sudo().with_context(active_test=False).search_count(
            [(fname, "=", self.id)], limit=1) for model, fname in CONNECTION_RECORDS if model in self.env)

    def _amazon_check_locked(self, vals):
        locked = [fname for fname in LOCKED_FIELDS.get(self._name, ()) if fname in vals]
        if not locked:
            return
        for record in self.sudo():
            changed = [fname for fname in locked if record[fname].id != _id(vals[fname])]
            if not changed or not record._amazon_has_records():
                continue
            raise UserError(self.env._(
                "%(record)s cannot be moved: its %(fields)s cannot change, that would take its records to "
                "another company or connection. Create a new one instead.",
                record=record.display_name,
                fields=", ".join(record._fields[fname]._description_string(self.env) for fname in changed)))
        if self._name == "amazon.account" and "company_id" in vals and not self.env.su:
            company = self.env["res.company"].browse(_id(vals["company_id"]))
            if company and company not in self.env.user.company_ids:
                raise AccessError(self.env._("You have no access to the company %s.", company.sudo().display_name))

    def _amazon_check_accountant_fields(self, vals):
        guarded = [fname for fname in ACCOUNTANT_FIELDS.get(self._name, ()) if fname in vals]
        if not guarded or self.env.su or self.env.user.has_group(ACCOUNTANT):
            return
        for record in self.sudo():
            changed = [fname for fname in guarded if _value(record, fname) != _value_of(record, fname, vals[fname])]
            if changed:
                raise AccessError(self.env._(
                    "Only accountants change %(fields)s of %(record)s: the payouts are booked from them.",
                    fields=", ".join(record._fields[fname]._description_string(self.env) for fname in changed),
                    record=record.display_name))


def _value(record, fname):
    value = record[fname]
    return value.id if isinstance(value, models.BaseModel) else value


def _value_of(record, fname, raw):
    """The value ``raw`` of a write would store, comparable with :func:`_value`."""
    field = record._fields[fname]
    if field.type == "many2one":
        return _id(raw)
    return field.convert_to_record(field.convert_to_cache(raw, record), record)
