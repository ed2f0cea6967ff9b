"""The buyer's contact data leaves Amazon's order data; what tax law needs stays."""
from bind_amazon_connector.utils.buyer_data import has_contact_data, without_contact_data
from spapi_simulator import factory


def b2b_order():
    order = factory.make_order("701-0000001-0000001", items=[{"sku": "MUG-01", "unit_price": "199.00"}],
                               buyer={"name": "Ana López", "email": "ana@example.com"})
    order["recipient"] = {
        "deliveryAddress": {"name": "Ana López", "addressLine1": "Av. Reforma 1", "addressLine2": "Piso 3",
                            "city": "Ciudad de México", "stateOrRegion": "CDMX", "postalCode": "06600",
                            "countryCode": "MX", "phone": "+52 55 5555 5555",
                            "extendedFields": {"streetName": "Reforma", "streetNumber": "1"}},
        "deliveryPreference": {"addressInstruction": "Dejar con el portero"},
    }
    order["buyer"]["buyerCompanyName"] = "Compras SA de CV"
    order["tax"] = {"taxRegistrations": [{"entityType": "BUYER", "legalName": "COMPRAS SA DE CV",
                                           "taxRegistrationNumber": "CSA010101AAA",
                                           "taxRegistrationAddress": {"postalCode": "06600", "countryCode": "MX"}}]}
    return order


def test_contact_data_erased_tax_data_kept():
    order = b2b_order()
    assert has_contact_data(order)
    clean = without_contact_data(order)
    assert not has_contact_data(clean)
    text = repr(clean)
    for secret in ("ana@example.com", "Ana López", "Reforma 1", "Piso 3", "5555", "portero"):
        assert secret not in text, secret
    assert clean["tax"] == order["tax"], "the RFC, legal name and fiscal address stay"
    assert clean["recipient"]["deliveryAddress"] == {"city": "Ciudad de México", "stateOrRegion": "CDMX",
                                                     "postalCode": "06600", "countryCode": "MX"}
    assert clean["buyer"]["buyerCompanyName"] == "Compras SA de CV"
    assert clean["orderItems"] == order["orderItems"]
    assert has_contact_data(order), "the original is left as it was"


def test_erasing_twice_changes_nothing_and_other_shapes_pass():
    clean = without_contact_data(b2b_order())
    assert without_contact_data(clean) == clean
    old = {"BuyerInfo": {"BuyerEmail": "x@example.com", "PurchaseOrderNumber": "PO-1"},
           "ShippingAddress": {"Name": "X", "AddressLine1": "Calle 1", "PostalCode": "01000"}}
    assert has_contact_data(old)
    assert without_contact_data(old) == {"BuyerInfo": {"PurchaseOrderNumber": "PO-1"},
                                         "ShippingAddress": {"PostalCode": "01000"}}
    assert without_contact_data(None) is None
    assert not has_contact_data({"orderId": "1"})
