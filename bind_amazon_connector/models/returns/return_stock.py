"""Returned goods back into stock: a return of the order's delivery, made with Odoo's own return wizard
(``stock.return.picking``), so the sale order's delivered quantity, the stock valuation and the stock push follow.

Plain functions taking an ``amazon.return`` (in the synchronisation's environment).

- Merchant-fulfilled (FBM): into the connection's returns location (``return_location_id``, by default its
  warehouse's stock), validated at once when the connection says so (``validate_returns``), else left ready
  for the warehouse to check.
- FBA: Amazon already received the goods. A sellable unit goes back to the FBA warehouse's stock; any other
  disposition to the FBA warehouse's unsellable location, which stands outside the warehouse's stock tree so
  that the FBA mirror ("Set stock from Amazon", Amazon's fulfillable units) does not count it. Validated at once.
"""
from odoo.exceptions import UserError

SELLABLE = "SELLABLE"


def product_of_sku(account, sale, sku):
    """The product of an Amazon SKU on the sale order: its line "[SKU] title", the product's internal
    reference, or the product of the connection's listing of that SKU."""
    lines = sale.order_line.filtered(lambda ln: ln.product_id and not ln.display_type)
    found = lines.filtered(lambda ln: (ln.name or "").startswith(f"[{sku}]"))
    if not found:
        found = lines.filtered(lambda ln: ln.product_id.default_code == sku)
    if not found:
        listing = account.env["amazon.listing"].with_context(active_test=False).search(
            [("account_id", "=", account.id), ("seller_sku", "=", sku)], limit=1)
        found = lines.filtered(lambda ln: listing.product_id and ln.product_id == listing.product_id)
    if not found:
        raise UserError(account.env._("SKU %(sku)s is not on sale order %(order)s: the return cannot say which "
                                      "product came back.", sku=sku, order=sale.name))
    return found[0].product_id


def _returned(move):
    """Quantity of a delivered move already returned (returns not cancelled)."""
    returns = move.returned_move_ids.filtered(lambda m: m.state != "cancel")
    return sum(returns.mapped("product_uom_qty"))


def delivery_of(sale, product):
    """The done delivery of ``product`` to the buyer with the most left to return (empty when none)."""
    moves = sale.picking_ids.move_ids.filtered(
        lambda m: m.product_id == product and m.state == "done" and m.picking_code == "outgoing"
        and m.location_dest_usage == "customer")
    if not moves:
        return sale.env["stock.picking"]
    return max(moves, key=lambda m: (m.quantity - _returned(m), m.id)).picking_id


def unsellable_location(warehouse):
    """The FBA warehouse's location of unsellable returns (created on first use)."""
    env = warehouse.env
    barcode = f"{warehouse.code}-AMZ-UNSELLABLE"
    Location = env["stock.location"].with_context(active_test=False)
    location = Location.search([("barcode", "=", barcode), ("company_id", "=", warehouse.company_id.id)], limit=1)
    if location:
        return location
    return Location.create({
        "name": env._("%(warehouse)s: unsellable Amazon returns", warehouse=warehouse.code),
        "usage": "internal",
        "location_id": warehouse.view_location_id.location_id.id,
        "barcode": barcode,
        "company_id": warehouse.company_id.id,
        "replenish_location": False,
    })


def destination(ret):
    """(location, validate now) of the goods of ``ret``."""
    account = ret.account_id
    if ret.channel == "fbm":
        return account.return_location_id or account.warehouse_id.lot_stock_id, account.validate_returns
    warehouse = account.fba_warehouse_id
    if not warehouse:
        raise UserError(ret.env._("The connection has no Fulfillment Warehouse: the FBA return cannot be recorded."))
    if ret.disposition == SELLABLE:
        return warehouse.lot_stock_id, True
    return unsellable_location(warehouse), True


def receive(ret):
    """Create (and validate when due) the return of ``ret``'s delivery; returns the return transfer."""
    env = ret.env
    delivery = ret.delivery_id
    if not delivery:
        raise UserError(env._("Order %(order)s has no done delivery of %(product)s: nothing can come back yet.",
                              order=ret.order_ref, product=ret.product_id.display_name))
    location, validate = destination(ret)
    moves = delivery.move_ids.filtered(lambda m: m.product_id == ret.product_id and m.state == "done")
    left = sum(m.quantity - _returned(m) for m in moves)
    if ret.product_id.uom_id.compare(ret.quantity, left) > 0:
        raise UserError(env._("Amazon reports %(qty)s units of %(product)s returned, but only %(left)s of delivery "
                              "%(delivery)s are left to return: check the returns of this order.",
                              qty=ret.quantity, product=ret.product_id.display_name, left=left,
                              delivery=delivery.name))
    wizard = env["stock.return.picking"].with_context(
        active_id=delivery.id, active_ids=delivery.ids, active_model="stock.picking").create(
        {"picking_id": delivery.id})
    need = ret.quantity
    for line in wizard.product_return_moves:
        take = 0
        if line.move_id in moves and need > 0:
            take = min(need, line.move_id.quantity - _returned(line.move_id))
            need -= take
        line.quantity = take
    picking = wizard._create_return()
    name = env._("Amazon return %(ret)s of %(order)s", ret=ret.name, order=ret.order_ref)
    picking.write({"location_dest_id": location.id, "origin": name})
    picking.move_ids.write({"location_dest_id": location.id, "origin": name})
    if validate:
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.write({"picked": True})
        picking.with_context(skip_backorder=True, skip_sms=True, amazon_shipped_on_amazon=True).button_validate()
    return picking
