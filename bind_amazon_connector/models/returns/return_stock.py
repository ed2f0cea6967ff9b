"""Returned goods back into stock: a return of the order's delivery, made with Odoo's own return wizard
(``stock.return.picking``), so the sale order's delivered quantity, the stock valuation and the stock push follow.

Plain functions taking an ``amazon.return`` (in the synchronisation's environment).

- Merchant-fulfilled (FBM): into the connection's returns location (``return_location_id``, by default its
  warehouse's stock), validated at once when the connection says so (``validate_returns``), else left ready
  for the warehouse to check.
- FBA: Amazon already received the goods. A sellable unit goes back to the FBA warehouse's stock; any other
  disposition to the FBA warehouse's unsellable location, which stands outside the warehouse's stock tree so
  that the FBA mirror ("Set stock from Amazon", Amazon's fulfillable units) does not count it. Validated at once.
- FBA, read again after the goods came back (:func:`settle`): Amazon changed the disposition or the quantity.
  Only the difference moves, from where the return's own done moves left the goods to where the report puts
  them now: an internal transfer between the FBA warehouse's stock and its unsellable location, a further
  return of the delivery for more units, units sent back to the customer for fewer. Computed from the
  return's done moves each time, it moves nothing once they agree (a row read again, a run killed and redone).
"""
from collections import defaultdict

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


def receive(ret, quantity=None):
    """Create (and validate when due) the return of ``quantity`` units (default: the return's) of ``ret``'s
    delivery; returns the return transfer."""
    env = ret.env
    delivery = ret.delivery_id
    if not delivery:
        raise UserError(env._("Order %(order)s has no done delivery of %(product)s: nothing can come back yet.",
                              order=ret.order_ref, product=ret.product_id.display_name))
    location, validate = destination(ret)
    moves = delivery.move_ids.filtered(lambda m: m.product_id == ret.product_id and m.state == "done")
    left = sum(m.quantity - _returned(m) for m in moves)
    need = ret.quantity if quantity is None else quantity
    if ret.product_id.uom_id.compare(need, left) > 0:
        raise UserError(env._("Amazon reports %(qty)s units of %(product)s returned, but only %(left)s of delivery "
                              "%(delivery)s are left to return: check the returns of this order.",
                              qty=need, product=ret.product_id.display_name, left=left,
                              delivery=delivery.name))
    wizard = env["stock.return.picking"].with_context(
        active_id=delivery.id, active_ids=delivery.ids, active_model="stock.picking").create(
        {"picking_id": delivery.id})
    for line in wizard.product_return_moves:
        take = 0
        if line.move_id in moves and need > 0:
            take = min(need, line.move_id.quantity - _returned(line.move_id))
            need -= take
        line.quantity = take
    picking = wizard._create_return()
    name = _origin(ret)
    picking.write({"location_dest_id": location.id, "origin": name})
    picking.move_ids.write({"location_dest_id": location.id, "origin": name})
    if validate:
        _validate(picking)
    return picking


def _origin(ret):
    return ret.env._("Amazon return %(ret)s of %(order)s", ret=ret.name, order=ret.order_ref)


def _validate(picking):
    for move in picking.move_ids:
        move.quantity = move.product_uom_qty
    picking.move_ids.write({"picked": True})
    picking.with_context(skip_backorder=True, skip_sms=True, amazon_shipped_on_amazon=True).button_validate()


# ---------------------------------------------------------------------- Amazon changed a return already in stock

def goods_by_location(moves):
    """{internal location: units} the done ``moves`` brought there, minus what they took away."""
    net = defaultdict(float)
    for move in moves.filtered(lambda m: m.state == "done"):
        qty = move.product_uom._compute_quantity(move.quantity, move.product_id.uom_id)
        if move.location_dest_id.usage == "internal":
            net[move.location_dest_id] += qty
        if move.location_id.usage == "internal":
            net[move.location_id] -= qty
    return {location: qty for location, qty in net.items() if qty}


def settle(ret):
    """Move only what differs between where the done moves of FBA return ``ret`` left its goods and where
    Amazon's report puts them now (:func:`destination` of its disposition, its quantity). Returns the new
    moves (none when they agree, or when a move of the return is not done yet)."""
    env = ret.env
    moves = ret.picking_id.move_ids | ret.adjustment_move_ids
    if ret.channel != "fba" or not moves or any(m.state not in ("done", "cancel") for m in moves):
        return env["stock.move"]
    target, _validate_now = destination(ret)
    uom = ret.product_id.uom_id
    here = goods_by_location(moves)
    at_target = here.pop(target, 0.0)
    new = env["stock.move"]
    for location, qty in sorted(here.items(), key=lambda item: item[0].id):
        take = min(qty, ret.quantity - at_target)
        if uom.compare(take, 0) > 0:
            new |= _transfer(ret, location, target, take)
            at_target += take
            here[location] -= take
    for location, qty in sorted(here.items(), key=lambda item: item[0].id):
        if uom.compare(qty, 0) > 0:  # more units than Amazon reports now: they go back to the customer
            new |= _send_back(ret, location, qty)
    if uom.compare(at_target, ret.quantity) > 0:
        new |= _send_back(ret, target, at_target - ret.quantity)
    elif uom.compare(at_target, ret.quantity) < 0:  # more units than before: a further return of the delivery
        new |= receive(ret, quantity=ret.quantity - at_target).move_ids
    if new:
        ret.adjustment_move_ids = [(4, move.id) for move in new]
    return new


def _transfer(ret, source, target, qty, picking_type=None, **move_vals):
    """A validated transfer of ``qty`` units of the return's product from ``source`` to ``target``, tied to the
    return (its moves) and to the order (the sale line and reference of the return's first move)."""
    env = ret.env
    warehouse = ret.account_id.fba_warehouse_id
    first = ret.picking_id.move_ids[:1]
    picking_type = picking_type or warehouse.int_type_id
    picking = env["stock.picking"].create({
        "picking_type_id": picking_type.id,
        "location_id": source.id,
        "location_dest_id": target.id,
        "origin": _origin(ret),
        "company_id": ret.company_id.id,
        "move_ids": [(0, 0, {
            "product_id": ret.product_id.id,
            "product_uom": ret.product_id.uom_id.id,
            "product_uom_qty": qty,
            "location_id": source.id,
            "location_dest_id": target.id,
            "origin": _origin(ret),
            "company_id": ret.company_id.id,
            "reference_ids": [(6, 0, first.reference_ids.ids)],
            "sale_line_id": first.sale_line_id.id,
            **move_vals,
        })],
    })
    picking.action_confirm()
    _validate(picking)
    return picking.move_ids


def _send_back(ret, source, qty):
    """``qty`` units of the return that Amazon no longer reports: back to the customer, as a return of the
    return (the sale counts them delivered again)."""
    first = ret.picking_id.move_ids[:1]
    customer = ret.delivery_id.location_dest_id or first.location_id
    return _transfer(ret, source, customer, qty, picking_type=ret.account_id.fba_warehouse_id.out_type_id,
                     origin_returned_move_id=first.id, to_refund=True)
