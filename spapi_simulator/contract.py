"""Amazon's published SP-API models (Swagger 2.0) as request and response validators.

The models are not shipped with the addon: they are looked up in ``$SPAPI_MODELS`` or in the
``shared/spapi-models`` folder next to the repository. Without them the simulator still serves,
unvalidated. Schemas are checked with ``jsonschema.Draft4Validator`` over each model's
``definitions`` (Swagger 2.0 schemas are JSON Schema draft 4).
"""
import json
import os
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft4Validator, FormatChecker

#: operationId -> (HTTP method, path template, model file relative to the models folder).
#: The routes the simulator serves; the contract tests check each one against its model.
OPERATIONS = {
    "searchOrders": ("GET", "/orders/2026-01-01/orders", "orders-api-model/orders_2026-01-01.json"),
    "getOrder": ("GET", "/orders/2026-01-01/orders/{orderId}", "orders-api-model/orders_2026-01-01.json"),
    "getListingsItem": ("GET", "/listings/2021-08-01/items/{sellerId}/{sku}",
                        "listings-items-api-model/listingsItems_2021-08-01.json"),
    "patchListingsItem": ("PATCH", "/listings/2021-08-01/items/{sellerId}/{sku}",
                          "listings-items-api-model/listingsItems_2021-08-01.json"),
    "searchListingsItems": ("GET", "/listings/2021-08-01/items/{sellerId}",
                            "listings-items-api-model/listingsItems_2021-08-01.json"),
    "getInventorySummaries": ("GET", "/fba/inventory/v1/summaries", "fba-inventory-api-model/fbaInventory.json"),
    "listTransactions": ("GET", "/finances/2024-06-19/transactions", "finances-api-model/finances_2024-06-19.json"),
    "createReport": ("POST", "/reports/2021-06-30/reports", "reports-api-model/reports_2021-06-30.json"),
    "getReports": ("GET", "/reports/2021-06-30/reports", "reports-api-model/reports_2021-06-30.json"),
    "getReport": ("GET", "/reports/2021-06-30/reports/{reportId}", "reports-api-model/reports_2021-06-30.json"),
    "cancelReport": ("DELETE", "/reports/2021-06-30/reports/{reportId}", "reports-api-model/reports_2021-06-30.json"),
    "getReportDocument": ("GET", "/reports/2021-06-30/documents/{reportDocumentId}",
                          "reports-api-model/reports_2021-06-30.json"),
    "getMarketplaceParticipations": ("GET", "/sellers/v1/marketplaceParticipations", "sellers-api-model/sellers.json"),
    "createRestrictedDataToken": ("POST", "/tokens/2021-03-01/restrictedDataToken",
                                  "tokens-api-model/tokens_2021-03-01.json"),
    "confirmShipment": ("POST", "/orders/v0/orders/{orderId}/shipmentConfirmation",
                        "orders-api-model/ordersV0.json"),
}

_ISO_STRICT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _is_datetime_strict(value):
    """RFC 3339 date-time, what Amazon's responses carry."""
    if not isinstance(value, str):
        return True
    if not _ISO_STRICT.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_datetime_lenient(value):
    """ISO 8601 as Amazon accepts it in requests (its own examples send plain dates such as 2023-03-07)."""
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return False
    return True


def _is_date(value):
    if not isinstance(value, str):
        return True
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


RESPONSE_FORMATS = FormatChecker(formats=())
RESPONSE_FORMATS.checks("date-time")(_is_datetime_strict)
RESPONSE_FORMATS.checks("date")(_is_date)
REQUEST_FORMATS = FormatChecker(formats=())
REQUEST_FORMATS.checks("date-time")(_is_datetime_lenient)
REQUEST_FORMATS.checks("date")(_is_date)

_PARAM_SCHEMA_KEYS = {"type", "format", "items", "enum", "maxItems", "minItems", "maximum", "minimum", "pattern",
                      "maxLength", "minLength", "uniqueItems"}


def find_models_dir(explicit=None):
    """The folder holding Amazon's ``models/`` tree, or None.

    Order: the explicit argument, ``$SPAPI_MODELS``, then ``../shared/spapi-models`` beside the repository.
    """
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("SPAPI_MODELS"):
        candidates.append(Path(os.environ["SPAPI_MODELS"]))
    repo = Path(__file__).resolve().parents[1]
    candidates.append(repo.parent / "shared" / "spapi-models")
    for path in candidates:
        if (path / "models").is_dir():
            return path
        if path.name == "models" and path.is_dir():
            return path.parent
    return None


def schema_for(definitions, schema):
    """A standalone draft-4 schema: ``schema`` plus the model's definitions its $refs point to."""
    return {**schema, "definitions": definitions}


def _errors(validator, instance, limit=5):
    out = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        out.append(f"{where}: {err.message[:300]}")
        if len(out) >= limit:
            break
    return out


class Operation:
    """One operation of a model: its parameters and response schemas, with validators."""

    def __init__(self, model, operation_id, method, path):
        self.model = model
        self.operation_id = operation_id
        self.method = method
        self.path = path
        item = model.spec["paths"][path]
        spec = item[method.lower()]
        self.spec = spec
        self.parameters = list(item.get("parameters", [])) + list(spec.get("parameters", []))
        self.responses = spec.get("responses", {})
        self._param_validators = {}
        self._response_validators = {}

    # ------------------------------------------------------------ requests

    def coerce_query(self, param, values):
        """Turn the raw query values of one parameter into the JSON value its schema describes.

        Arrays accept Amazon's csv form (``a,b``) and repeated keys. Returns (value, problem).
        """
        kind = param.get("type")
        if kind == "array":
            out = []
            for raw in values:
                out.extend(v for v in raw.split(",") if v != "")
            item_type = (param.get("items") or {}).get("type")
            if item_type in ("integer", "number"):
                try:
                    out = [int(v) if item_type == "integer" else float(v) for v in out]
                except ValueError:
                    return None, f"{param['name']} must be a list of {item_type}s"
            return out, None
        if len(values) > 1:
            return None, f"{param['name']} given {len(values)} times"
        raw = values[0]
        if kind == "integer":
            try:
                return int(raw), None
            except ValueError:
                return None, f"{param['name']} must be an integer, not {raw!r}"
        if kind == "number":
            try:
                return float(raw), None
            except ValueError:
                return None, f"{param['name']} must be a number, not {raw!r}"
        if kind == "boolean":
            if raw.lower() in ("true", "false"):
                return raw.lower() == "true", None
            return None, f"{param['name']} must be true or false, not {raw!r}"
        return raw, None

    def _param_validator(self, param):
        key = (param["in"], param["name"])
        val = self._param_validators.get(key)
        if val is None:
            if param["in"] == "body":
                schema = schema_for(self.model.definitions, param["schema"])
            else:
                schema = {k: v for k, v in param.items() if k in _PARAM_SCHEMA_KEYS}
                if "items" in schema:
                    schema["items"] = {k: v for k, v in schema["items"].items() if k in _PARAM_SCHEMA_KEYS}
            val = Draft4Validator(schema, format_checker=REQUEST_FORMATS)
            self._param_validators[key] = val
        return val

    def validate_request(self, path_params, query, body, body_present):
        """Problems of a request against the operation's parameters: list of strings (empty if valid).

        ``query`` maps names to lists of raw strings; ``body`` is the parsed JSON body.
        """
        problems = []
        for param in self.parameters:
            name, where = param["name"], param["in"]
            if where == "path":
                if not path_params.get(name):
                    problems.append(f"path parameter {name} is missing")
                continue
            if where == "query":
                if name not in query:
                    if param.get("required"):
                        problems.append(f"required query parameter {name} is missing")
                    continue
                value, problem = self.coerce_query(param, query[name])
                if problem:
                    problems.append(problem)
                    continue
                problems.extend(f"query parameter {name}: {e}" for e in _errors(self._param_validator(param), value))
            elif where == "body":
                if not body_present:
                    if param.get("required"):
                        problems.append("the request body is missing")
                    continue
                problems.extend(f"body {e}" for e in _errors(self._param_validator(param), body))
        return problems

    # ------------------------------------------------------------ responses

    def response_validator(self, status):
        """Validator of the response body for an HTTP status, or None when the model gives no schema."""
        key = str(status)
        if key not in self._response_validators:
            resp = self.responses.get(key)
            schema = (resp or {}).get("schema")
            self._response_validators[key] = (
                Draft4Validator(schema_for(self.model.definitions, schema), format_checker=RESPONSE_FORMATS)
                if schema else None
            )
        return self._response_validators[key]

    def validate_response(self, status, body):
        """Problems of a response body against the model (empty list if valid or nothing to check)."""
        if str(status) not in self.responses:
            if 200 <= int(status) < 300:
                return [f"HTTP {status} is not a documented answer of {self.operation_id}"]
            return []
        validator = self.response_validator(status)
        if validator is None:
            return []
        if validator.is_valid(body):
            return []
        return _errors(validator, body)


class Model:
    """One model file: its definitions and operations."""

    def __init__(self, path):
        self.path = Path(path)
        self.spec = json.loads(self.path.read_text(encoding="utf-8"))
        self.definitions = self.spec.get("definitions", {})
        self._definition_validators = {}

    def operation(self, operation_id):
        for path, item in self.spec["paths"].items():
            for method, spec in item.items():
                if isinstance(spec, dict) and spec.get("operationId") == operation_id:
                    return Operation(self, operation_id, method.upper(), path)
        raise KeyError(f"{operation_id} is not in {self.path.name}")

    def definition_validator(self, name):
        """Validator of one definition (e.g. ``Order``) with the model's response formats."""
        if name not in self._definition_validators:
            self._definition_validators[name] = Draft4Validator(
                schema_for(self.definitions, {"$ref": f"#/definitions/{name}"}), format_checker=RESPONSE_FORMATS)
        return self._definition_validators[name]


class Contract:
    """The operations the simulator serves, bound to Amazon's models found on disk."""

    def __init__(self, models_dir):
        self.models_dir = Path(models_dir)
        self.operations = {}
        for op_id, (_method, _path, rel) in OPERATIONS.items():
            self.operations[op_id] = load_model(str(self.models_dir / "models" / rel)).operation(op_id)

    def validate_request(self, operation_id, path_params, query, body, body_present):
        op = self.operations.get(operation_id)
        return op.validate_request(path_params, query, body, body_present) if op else []

    def validate_response(self, operation_id, status, body):
        op = self.operations.get(operation_id)
        return op.validate_response(status, body) if op else []


@lru_cache(maxsize=32)
def load_model(path):
    """Parse a model file once per process."""
    return Model(path)


@lru_cache(maxsize=4)
def load_contract(models_dir):
    return Contract(models_dir)


def order_examples(models_dir=None):
    """(where, raw order) of every order in the examples (sandbox and documentation) of Amazon's Orders
    2026-01-01 model, or an empty list when the models are absent."""
    root = find_models_dir(models_dir)
    if root is None:
        return []
    model = json.loads((root / "models" / "orders-api-model" / "orders_2026-01-01.json").read_text(encoding="utf-8"))
    found = []
    for path, item in model["paths"].items():
        for method, spec in item.items():
            if not isinstance(spec, dict):
                continue
            for status, response in spec.get("responses", {}).items():
                bodies = [("static", i, e.get("response") or {}) for i, e in
                          enumerate((response.get("x-amzn-api-sandbox") or {}).get("static", []))]
                bodies += [("example", kind, body) for kind, body in (response.get("examples") or {}).items()]
                for source, index, body in bodies:
                    for raw in body.get("orders") or ([body["order"]] if "order" in body else []):
                        found.append((f"{method.upper()} {path} {status} {source} {index} {raw['orderId']}", raw))
    return found
