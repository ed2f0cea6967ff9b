"""The journals a connection numbers in: its own sales journal (its series of invoices and credit notes), its
own payouts journal (the settlement journal, whose payments post on the clearing account) and, when the company
books IVA on a cash basis, its own cash-basis journal (the IVA entries of its payments, Odoo's CBMX otherwise).

Each connection numbering in journals of its own is what lets the imports of two connections run at the same
time: Odoo locks a journal's sequence while it gives the next number, so connections sharing the Sales journal
wait on each other. A new connection gets these journals, unless the person creating it picked shared ones (an
accountant's choice); connections made before keep the company's Sales journal (migration 19.0.2.1.0) and its
cash-basis journal (until an accountant chooses another: no journal is made for them).

Plain functions taking the connection (``amazon.account``) or ``env``.
"""
from odoo.exceptions import ValidationError
from odoo.tools import SQL

#: the codes (5 characters at most) of the journals a connection gets: the first free one of the company
SALES_CODES = tuple(f"AMZ{n}" for n in range(1, 100))
PAYOUTS_CODES = tuple(f"AMZP{n}" for n in range(1, 10)) + tuple(f"AP{n:03d}" for n in range(10, 1000))
CASH_BASIS_CODES = tuple(f"AMZC{n}" for n in range(1, 10)) + tuple(f"AC{n:03d}" for n in range(10, 1000))


def free_code(env, company, codes):
    """The first of ``codes`` no journal of ``company`` (or its branches' family) uses."""
    Journal = env["account.journal"].sudo().with_context(active_test=False)
    taken = set(Journal.search(Journal._check_company_domain(company)).mapped("code"))
    return next(code for code in codes if code not in taken)


def journal_name(account):
    """The connection's name, after "Amazon" unless it already starts with it."""
    name = account.name or ""
    return name if name.lower().startswith("amazon") else f"Amazon {name}".strip()


def new_sales_journal(account):
    """A sales journal of the connection's own: its invoices number as ``AMZ1/2026/00001``."""
    account.ensure_one()
    company = account.company_id
    return account.env["account.journal"].sudo().with_company(company).create({
        "name": journal_name(account), "code": free_code(account.env, company, SALES_CODES), "type": "sale",
        "company_id": company.id,
    })


def new_payouts_journal(account, clearing):
    """A payouts journal of the connection's own whose payment methods post on the clearing account (never on a
    bank account of its own): the payments inside Amazon's balance number in it."""
    account.ensure_one()
    company = account.company_id
    journal = account.env["account.journal"].sudo().with_company(company).create({
        "name": account.env._("%s payouts", journal_name(account)),
        "code": free_code(account.env, company, PAYOUTS_CODES), "type": "bank", "company_id": company.id,
        "show_on_dashboard": False,
    })
    lines = journal.inbound_payment_method_line_ids | journal.outbound_payment_method_line_ids
    lines.filtered(lambda ln: ln.payment_account_id != clearing).payment_account_id = clearing
    return journal


def new_cash_basis_journal(account):
    """A miscellaneous journal of the connection's own receiving the cash-basis IVA entries of its payments
    (what Odoo otherwise books in the company's cash-basis journal, CBMX in Mexico), on the same default account."""
    account.ensure_one()
    company = account.company_id
    Journal = account.env["account.journal"].sudo().with_company(company)
    return Journal.create({
        "name": account.env._("%s cash-basis IVA", journal_name(account)),
        "code": free_code(account.env, company, CASH_BASIS_CODES), "type": "general", "company_id": company.id,
        "default_account_id": company.tax_cash_basis_journal_id.default_account_id.id,
        "show_on_dashboard": False,
    })


def apply_sales_journal(accounts):
    """Connections created without a sales journal get one of their own (the chart's default, no one's choice)."""
    for account in accounts.filtered(lambda a: not a.sales_journal_id and a.company_id.chart_template):
        account.sudo().sales_journal_id = new_sales_journal(account)


def apply_cash_basis_journal(accounts):
    """Connections created without a cash-basis journal get one of their own when their company books IVA on a
    cash basis (the chart's default, no one's choice); otherwise there are no cash-basis entries to number."""
    for account in accounts.filtered(lambda a: not a.cash_basis_journal_id and a.company_id.chart_template
                                     and a.company_id.tax_exigibility):
        account.sudo().cash_basis_journal_id = new_cash_basis_journal(account)


def route_cash_basis_entries(env, vals_list):
    """``vals_list`` of ``account.move.create`` with the cash-basis IVA entries Odoo books in the company's
    cash-basis journal moved to the cash-basis journal of the connection whose payments they are.

    The connection is found from the records, never from a context: the journals of the reconciliation's two
    entries (``tax_cash_basis_rec_id``), the connections whose settlement or sales journal they are, and their
    cash-basis journals (one without, or with one the entry's company may not use: the company's). Exactly one
    journal that is not the company's: the entry goes there; otherwise (no connection, or journals shared by
    connections that number apart) Odoo's stays. One query for all the entries."""
    todo = [vals for vals in vals_list if isinstance(vals.get("tax_cash_basis_rec_id"), int)
            and vals.get("journal_id") and vals.get("company_id")]
    if not todo:
        return vals_list
    companies = env["res.company"].sudo().browse({vals["company_id"] for vals in todo})
    company_journals = {company.id: company.tax_cash_basis_journal_id.id for company in companies}
    todo = [vals for vals in todo if vals["journal_id"] == company_journals.get(vals["company_id"])]
    if not todo:
        return vals_list
    env["account.partial.reconcile"].flush_model(["debit_move_id", "credit_move_id"])
    env["account.move.line"].flush_model(["journal_id"])
    env["amazon.account"].flush_model(["clearing_journal_id", "sales_journal_id", "cash_basis_journal_id"])
    env.cr.execute(SQL(
        """SELECT partial.id, ARRAY_AGG(DISTINCT account.cash_basis_journal_id)
             FROM account_partial_reconcile partial
             JOIN account_move_line line ON line.id IN (partial.debit_move_id, partial.credit_move_id)
             JOIN amazon_account account ON line.journal_id IN (account.clearing_journal_id, account.sales_journal_id)
            WHERE partial.id = ANY(%s)
         GROUP BY partial.id""", list({vals["tax_cash_basis_rec_id"] for vals in todo})))
    found = {partial_id: journal_ids for partial_id, journal_ids in env.cr.fetchall() if any(journal_ids)}
    if not found:
        return vals_list
    Journal = env["account.journal"].sudo()
    routed = {}
    for vals in todo:
        journal_ids = found.get(vals["tax_cash_basis_rec_id"])
        if not journal_ids:
            continue
        company_journal = vals["journal_id"]
        usable = Journal.browse({jid for jid in journal_ids if jid}).filtered_domain(
            [("active", "=", True), *Journal._check_company_domain(companies.browse(vals["company_id"]))])
        chosen = {jid if jid in usable.ids else company_journal for jid in journal_ids}
        if len(chosen) == 1 and company_journal not in chosen:
            routed[id(vals)] = chosen.pop()
    return [dict(vals, journal_id=routed[id(vals)]) if id(vals) in routed else vals for vals in vals_list]


def check_sales_journal(accounts):
    """The sales journal must be a sales journal: the invoices and credit notes of the orders number in it."""
    env = accounts.env
    for account in accounts:
        if account.sales_journal_id and account.sales_journal_id.type != "sale":
            raise ValidationError(env._(
                "The sales journal “%(journal)s” of %(connection)s must be a sales journal: the invoices of the "
                "Amazon orders number in it.", journal=account.sales_journal_id.display_name,
                connection=account.name))


def check_cash_basis_journal(accounts):
    """The cash-basis journal must be a miscellaneous journal, as Odoo's own (its company: check_settings_company)."""
    env = accounts.env
    for account in accounts:
        journal = account.sudo().cash_basis_journal_id
        if journal and journal.type != "general":
            raise ValidationError(env._(
                "The cash-basis journal “%(journal)s” of %(connection)s must be a miscellaneous journal: the "
                "cash-basis IVA entries of the connection's payments number in it.",
                journal=journal.display_name, connection=account.name))


def company_sales_journal(env, company):
    """The sales journal Odoo invoices in when no journal is chosen: the company's first by sequence."""
    Journal = env["account.journal"].sudo()
    return Journal.search([*Journal._check_company_domain(company), ("type", "=", "sale")], limit=1)
