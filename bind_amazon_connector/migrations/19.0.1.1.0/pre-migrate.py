"""Connections that existed before Odoo could confirm shipments keep working as they did: Amazon tells Odoo
what shipped (new connections default to Odoo confirming on Amazon)."""


def migrate(cr, version):
    if not version:
        return
    cr.execute("ALTER TABLE amazon_account ADD COLUMN IF NOT EXISTS fbm_shipment_mode varchar")
    cr.execute("UPDATE amazon_account SET fbm_shipment_mode = 'amazon' WHERE fbm_shipment_mode IS NULL")
