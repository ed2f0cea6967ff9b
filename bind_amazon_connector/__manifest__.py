{
    "name": "Amazon Connector (Bind-style)",
    "summary": "Import Amazon orders as sales, deliveries and invoices; sync listings, stock and payouts",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "author": "bind_amazon_connector developers",
    "website": "https://github.com/bind-amazon-connector/bind_amazon_connector",
    "license": "LGPL-3",
    "depends": ["mail", "sale_management", "sale_stock", "account"],
    "external_dependencies": {"python": ["sp_api", "requests"]},
    "data": [
        "security/amazon_security.xml",
        "security/ir.model.access.csv",
        "security/amazon_rules.xml",
        "data/amazon_marketplace_data.xml",
    ],
    "installable": True,
    "application": True,
}
