"""The journals a connection numbers in: its own sales journal (its series of invoices and credit notes) and its
own payouts journal (the settlement journal, whose payments post on the clearing account).

Each connection numbering in journals of its own is what lets the imports of two connections run at the same
time: Odoo locks a journal's sequence while it gives the next number, so connections sharing the Sales journal
wait on each other. A new connection gets both journals, unless the person creating it picked shared ones (an
accountant's choice); connections made before keep the company's Sales journal (migration 19.0.2.1.0).

Plain functions taking the connection (``amazon.account``) or ``env``.
"""
from odoo.exceptions import ValidationError

#: the codes (5 characters at most) of the journals a connection gets: the first free one of the company
SALES_CODES = tuple(f"AMZ{n}" for n in range(1, 100))
PAYOUTS_CODES = tuple(f"AMZP{n}" for n in range(1, 10)) + tuple(f"AP{n:03d}" for n in range(10, 1000))


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


def apply_sales_journal(accounts):
    """Connections created without a sales journal get one of their own (the chart's default, no one's choice)."""
    for account in accounts.filtered(lambda a: not a.sales_journal_id and a.company_id.chart_template):
        account.sudo().sales_journal_id = new_sales_journal(account)


def check_sales_journal(accounts):
    """The sales journal must be a sales journal: the invoices and credit notes of the orders number in it."""
    env = accounts.env
    for account in accounts:
        if account.sales_journal_id and account.sales_journal_id.type != "sale":
            raise ValidationError(env._(
                "The sales journal “%(journal)s” of %(connection)s must be a sales journal: the invoices of the "
                "Amazon orders number in it.", journal=account.sales_journal_id.display_name,
                connection=account.name))


def company_sales_journal(env, company):
    """The sales journal Odoo invoices in when no journal is chosen: the company's first by sequence."""
    Journal = env["account.journal"].sudo()
    return Journal.search([*Journal._check_company_domain(company), ("type", "=", "sale")], limit=1)
