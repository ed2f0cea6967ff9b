"""Scenarios: the seller data a simulator starts with.

A scenario is a dict (or a JSON file holding one)::

    {
      "seller_id": "A3SIMSELLER0001", "marketplace_id": "A1AM78C64UM0Y8", "store_name": "...",
      "time_base": "2026-03-01T12:00:00Z",   # optional: every timestamp is moved so this instant is now
      "report_encoding": "cp1252",           # encoding of generated flat-file reports
      "listings": [...], "orders": [...], "inventory": [...], "transactions": [...], "returns": [...],
      "participations": [...],               # Sellers API MarketplaceParticipation (default: the marketplace)
      "reports": {"outcomes": {"REPORT_TYPE": "DONE"}, "documents": {"REPORT_TYPE": {"text": "...",
                  "encoding": "utf-8", "gzip": false}}},
      "settlement": true,                    # publish a settlement report built from the transactions
      "check_objects": true                  # validate each object against Amazon's model when loading
    }

Entries of listings/orders/inventory/transactions are either complete model objects (recognised by
``sku``+``summaries``, ``orderId``, ``sellerSku``, ``transactionId``) or keyword arguments for the
factory builders (``make_listing``, ``make_order``...), which keeps scenario files short.
"""
import itertools
import json
import random
import re
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

from . import factory
from .returns import make_return
from .state import LazyOrder, LazyTransaction

SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def load_scenario(scenario):
    """A scenario dict from None, a dict, a JSON file path, or a name of a bundled scenario ("demo")."""
    if scenario is None:
        return {}
    if isinstance(scenario, dict):
        return scenario
    path = Path(scenario)
    if not path.suffix and not path.exists():
        path = SCENARIOS_DIR / f"{scenario}.json"
    if not path.is_file():
        raise FileNotFoundError(f"No scenario file {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def shift_times(obj, delta):
    """A copy of ``obj`` with every ISO 8601 date-time string moved by ``delta``."""
    if isinstance(obj, dict):
        return {k: shift_times(v, delta) for k, v in obj.items()}
    if isinstance(obj, list):
        return [shift_times(v, delta) for v in obj]
    if isinstance(obj, str) and _ISO.match(obj):
        return factory.iso(factory.parse_time(obj) + delta)
    return obj


def _complete(entry, marker):
    return isinstance(entry, (LazyOrder, LazyTransaction)) or marker(entry)


#: collection -> (recognises a complete model object, factory builder for keyword-argument entries)
BUILDERS = {
    "listings": (lambda e: "summaries" in e, factory.make_listing),
    "orders": (lambda e: "orderId" in e, factory.make_order),
    "inventory": (lambda e: "sellerSku" in e, factory.make_inventory_summary),
    "transactions": (lambda e: "transactionId" in e, factory.make_transaction),
    "returns": (lambda e: "returnId" in e, make_return),
}


def prepare(scenario, now):
    """The scenario with its times rebased (``time_base``) and every entry built into a model object.

    Each collection becomes a list of ``(object, given_complete)``: objects the factory built from
    keyword arguments are known to be valid (the factory's tests check them); complete ones are not.
    """
    scenario = dict(scenario)
    delta = None
    if scenario.get("time_base"):
        delta = now - factory.parse_time(scenario["time_base"])
        delta = timedelta(seconds=int(delta.total_seconds()))
    for key, (is_complete, build) in BUILDERS.items():
        out = []
        for entry in scenario.get(key, []):
            if delta is not None and not isinstance(entry, (LazyOrder, LazyTransaction)):
                entry = shift_times(entry, delta)
            complete = _complete(entry, is_complete)
            out.append((entry if complete else build(**entry), complete))
        scenario[key] = out
    return scenario


# ---------------------------------------------------------------- generated scenarios for benchmarks

_WORDS = ["Taza", "Termo", "Playera", "Audífonos", "Cargador", "Mochila", "Lámpara", "Cuaderno", "Botella",
          "Sartén", "Cobija", "Reloj", "Bocina", "Funda", "Cable", "Tenis", "Gorra", "Libro", "Juguete", "Maceta"]
_STATUS_WEIGHTS = [("SHIPPED", 60), ("UNSHIPPED", 20), ("PENDING", 5), ("PARTIALLY_SHIPPED", 3), ("CANCELLED", 7),
                   ("UNFULFILLABLE", 0)]


_FIRST_NAMES = ["Ana", "Luis", "María", "José", "Guadalupe", "Juan", "Fernanda", "Carlos", "Sofía", "Miguel",
                "Valeria", "Jorge", "Daniela", "Ricardo", "Ximena", "Alejandro"]
_SURNAMES = ["López", "García", "Hernández", "Martínez", "Pérez", "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez",
             "Morales", "Vázquez", "Jiménez", "Reyes", "Díaz", "Torres"]
_PLACES = [("Ciudad de México", "CDMX", "Benito Juárez", "03100"), ("Guadalajara", "Jalisco", "Guadalajara", "44100"),
           ("Monterrey", "Nuevo León", "Monterrey", "64000"), ("Puebla", "Puebla", "Puebla", "72000"),
           ("Mérida", "Yucatán", "Mérida", "97000"), ("Querétaro", "Querétaro", "Querétaro", "76000"),
           ("Torreón", "Coahuila", "Torreón", "27000"), ("Oaxaca de Juárez", "Oaxaca", "Oaxaca", "68000")]


def _buyer_pool(count, seed):
    """``count`` buyers, each with a name, an e-mail and a delivery address (Amazon's anonymized ones)."""
    rng = random.Random(f"buyers-{seed}")
    pool = []
    for n in range(count):
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)} {rng.choice(_SURNAMES)}"
        city, state, district, zip_code = rng.choice(_PLACES)
        pool.append(({"name": name, "email": f"buyer{seed}x{n:06d}@marketplace.amazon.com.mx"},
                     {"name": name, "addressLine1": f"Calle {rng.choice(_SURNAMES)} {rng.randint(1, 999)}",
                      "city": city, "districtOrCounty": district, "stateOrRegion": state,
                      "postalCode": f"{int(zip_code) + rng.randint(0, 90):05d}", "countryCode": "MX"}))
    return pool


def generate_scenario(n_orders=1000, n_listings=100, seed=0, *, n_inventory=None, n_transactions=None, days=30,
                      now=None, seller_id=factory.DEFAULT_SELLER_ID, marketplace_id=factory.MX, buyers=None):
    """A large deterministic scenario for benchmarks (the same seed and ``now`` give the same data).

    Orders and transactions are lazy: their searchable fields are computed up front and the full
    objects only when an answer needs them, so 50 000 orders load in a few seconds. Listings are ~70 % MFN,
    ~30 % FBA; FBA listings get inventory summaries; shipped orders get a transaction each (capped by
    ``n_transactions``, default 10 000). Objects come from the factory and are not re-validated one by one
    when loaded (``check_objects``: False). Order times spread over the last ``days`` days. ``buyers``: how
    many different buyers place the orders (some buy again); by default every order has the factory's one
    buyer. The other choices do not depend on it: the same seed gives the same orders either way.
    """
    rng = random.Random(seed)
    now = (factory.parse_time(now) if now else datetime.now(timezone.utc)).replace(microsecond=0)
    start = now - timedelta(days=days)
    listings, skus = [], []
    for i in range(n_listings):
        sku = f"GEN-{i:06d}"
        afn = rng.random() < 0.3
        title = f"{rng.choice(_WORDS)} {rng.choice(_WORDS).lower()} modelo {i}"
        price = f"{rng.randint(49, 2999)}.{rng.choice(['00', '50', '90', '99'])}"
        listings.append(factory.make_listing(
            sku, title=title, price=price, quantity=0 if afn else rng.randint(0, 200),
            fulfillment="AFN" if afn else "MFN", marketplace_id=marketplace_id,
            created=start - timedelta(days=rng.randint(1, 365)),
            updated=start + timedelta(seconds=rng.randint(0, 86400))))
        skus.append((sku, title, price, afn))
    afn_skus = [s for s in skus if s[3]]
    inventory = [factory.make_inventory_summary(sku, title=title, fulfillable=rng.randint(0, 300),
                                                inbound_shipped=rng.choice([0, 0, 10, 24]),
                                                reserved=rng.randint(0, 5), updated=now - timedelta(hours=3))
                 for sku, title, _p, _a in afn_skus[: n_inventory if n_inventory is not None else len(afn_skus)]]
    statuses = [s for s, _w in _STATUS_WEIGHTS]
    cum_weights = list(itertools.accumulate(w for _s, w in _STATUS_WEIGHTS))
    span = (days * 86400 - 600) / max(n_orders, 1)
    pool = _buyer_pool(buyers, seed) if buyers else None
    pick = random.Random(f"orders-{seed}")  # its own sequence: ``rng`` gives the same orders with or without
    orders, transactions = [], []
    max_txn = n_transactions if n_transactions is not None else min(n_orders, 10000)
    for i in range(n_orders):
        created = start + timedelta(seconds=int(i * span + rng.random() * span))
        updated = min(created + timedelta(seconds=rng.randint(0, 3 * 86400)), now - timedelta(minutes=5))
        updated = max(updated, created)
        status = rng.choices(statuses, cum_weights=cum_weights)[0]
        lines = [skus[rng.randrange(len(skus))] for _ in range(rng.choice([1, 1, 1, 2, 3]))] if skus else []
        fulfilled_by = "AMAZON" if lines and all(line[3] for line in lines) else "MERCHANT"
        order_id = f"70{1 + i % 2}-{i:07d}-{rng.randrange(10**7):07d}"
        items = [{"sku": sku, "title": title, "unit_price": price, "quantity": rng.choice([1, 1, 2, 3]),
                  "order_item_id": f"{i:09d}{j:05d}"} for j, (sku, title, price, _afn) in enumerate(lines)]
        if not items:
            items = [{"sku": "GEN-NOLISTING", "unit_price": "100.00", "order_item_id": f"{i:09d}00000"}]
        if status == "PARTIALLY_SHIPPED" and len(items) < 2:
            status = "UNSHIPPED"
        if status == "PARTIALLY_SHIPPED":
            items[0]["shipped"] = items[0]["quantity"]
        buyer, recipient = pool[pick.randrange(len(pool))] if pool else (None, None)
        build = partial(factory.make_order, order_id, items=items, status=status, fulfilled_by=fulfilled_by,
                        marketplace_id=marketplace_id, created=created, last_updated=updated, buyer=buyer,
                        recipient=recipient)
        orders.append(LazyOrder(order_id, created, updated, status, fulfilled_by, marketplace_id, build))
        if status == "SHIPPED" and len(transactions) < max_txn:
            first = items[0]
            posted = min(updated + timedelta(hours=6), now - timedelta(minutes=10))
            build_txn = partial(
                factory.make_transaction, order_id, posted=posted, sku=first["sku"], quantity=first["quantity"],
                principal=factory.dec(first["unit_price"]) * first["quantity"], marketplace_id=marketplace_id,
                seller_id=seller_id, fba_fee="45.00" if fulfilled_by == "AMAZON" else "0.00",
                fulfillment_network="AFN" if fulfilled_by == "AMAZON" else "MFN", transaction_id=f"GENTXN{i:012d}",
                # Amazon details the fees at the transaction level, the item level or both
                fee_detail=("items", "both", "top")[i % 3], fee_tax=marketplace_id == factory.MX)
            transactions.append(LazyTransaction(f"GENTXN{i:012d}", posted, marketplace_id, "RELEASED", order_id,
                                                build_txn))
    return {"seller_id": seller_id, "marketplace_id": marketplace_id, "listings": listings, "orders": orders,
            "inventory": inventory, "transactions": transactions, "check_objects": False}
