"""Amazon's own sandbox examples validate against the schemas we use: proof the validator setup is right.

Also checks that every route the simulator serves exists, with that method, in Amazon's models.
"""
import pytest
from conftest import spapi_models_dir
from jsonschema import Draft4Validator

from spapi_simulator.contract import OPERATIONS

MODEL_FILES = [
    "orders-api-model/orders_2026-01-01.json",
    "orders-api-model/ordersV0.json",
    "listings-items-api-model/listingsItems_2021-08-01.json",
    "fba-inventory-api-model/fbaInventory.json",
    "finances-api-model/finances_2024-06-19.json",
    "finances-api-model/financesV0.json",
    "reports-api-model/reports_2021-06-30.json",
    "sellers-api-model/sellers.json",
    "tokens-api-model/tokens_2021-03-01.json",
    "notifications-api-model/notifications.json",
]
#: Models without any static sandbox example (Amazon publishes none for FBA inventory).
WITHOUT_EXAMPLES = {"fba-inventory-api-model/fbaInventory.json"}
#: Sandbox examples that break Amazon's own model (kept failing on purpose: we notice when Amazon fixes them).
#: getAccount's example leaves out the required defaultCurrencyCode and defaultLanguageCode of its marketplace.
#: The simulator does not serve getAccount.
KNOWN_BAD = {("sellers-api-model/sellers.json", "getAccount GET /sellers/v1/account", "200")}


def sandbox_examples(model):
    """(operationId, status, example response, response schema) for every static sandbox example."""
    for path, item in model["paths"].items():
        for method, spec in item.items():
            if not isinstance(spec, dict) or "responses" not in spec:
                continue
            for status, response in spec["responses"].items():
                sandbox = response.get("x-amzn-api-sandbox") or {}
                for example in sandbox.get("static", []):
                    yield f"{spec['operationId']} {method.upper()} {path}", status, example.get("response"), \
                        response.get("schema")


@pytest.mark.parametrize("model_file", MODEL_FILES)
def test_sandbox_examples_validate(spapi_models, model_file):
    model = spapi_models(model_file)
    examples = list(sandbox_examples(model))
    if model_file in WITHOUT_EXAMPLES:
        assert examples == [], f"{model_file} now has sandbox examples: remove it from WITHOUT_EXAMPLES"
        return
    assert examples, f"{model_file} has no static sandbox example"
    failures, checked = [], 0
    for operation, status, response, schema in examples:
        if schema is None:
            assert response in ({}, None), f"{operation} {status}: example without a schema"
            continue
        validator = Draft4Validator({**schema, "definitions": model["definitions"]})
        problems = [f"{operation} {status}: {e.message}" for e in validator.iter_errors(response)]
        if (model_file, operation, status) in KNOWN_BAD:
            assert problems, f"{operation} {status}: Amazon fixed its example, remove it from KNOWN_BAD"
            continue
        checked += 1
        failures += problems
    assert failures == []
    assert checked > 0


def test_example_counts_match_the_notes(spapi_models):
    """notes/spapi.md counts the static examples per model; a new model version changes them."""
    counts = {f: len(list(sandbox_examples(spapi_models(f)))) for f in MODEL_FILES}
    assert counts["orders-api-model/orders_2026-01-01.json"] == 8
    assert counts["orders-api-model/ordersV0.json"] == 31
    assert counts["listings-items-api-model/listingsItems_2021-08-01.json"] == 14
    assert counts["reports-api-model/reports_2021-06-30.json"] == 18
    assert counts["finances-api-model/finances_2024-06-19.json"] == 7
    assert counts["finances-api-model/financesV0.json"] == 8
    assert counts["tokens-api-model/tokens_2021-03-01.json"] == 3
    assert counts["sellers-api-model/sellers.json"] == 3
    assert counts["notifications-api-model/notifications.json"] == 9
    assert counts["fba-inventory-api-model/fbaInventory.json"] == 0


def test_the_validator_rejects_a_broken_example(spapi_models):
    """The same setup fails on a sandbox example with a required field removed (the check can fail)."""
    model = spapi_models("orders-api-model/orders_2026-01-01.json")
    operation, status, response, schema = next(e for e in sandbox_examples(model) if e[1] == "200")
    broken = {**response, "orders": [{k: v for k, v in response["orders"][0].items() if k != "orderId"}]}
    validator = Draft4Validator({**schema, "definitions": model["definitions"]})
    assert validator.is_valid(response)
    assert not validator.is_valid(broken)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_simulator_routes_exist_in_the_models(spapi_models, operation):
    method, path, model_file = OPERATIONS[operation]
    spec = spapi_models(model_file)["paths"][path][method.lower()]
    assert spec["operationId"] == operation


def test_models_dir_lookup_matches_the_simulator():
    from spapi_simulator.contract import find_models_dir

    assert find_models_dir() == spapi_models_dir()
