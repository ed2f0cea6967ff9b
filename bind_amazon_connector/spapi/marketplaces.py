"""Regions and marketplaces the connector knows: API hosts, Seller Central hosts, currencies."""
from dataclasses import dataclass

from .errors import ConfigurationError

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a public URL, not a secret


@dataclass(frozen=True)
class Region:
    code: str
    endpoint: str

    @property
    def sandbox_endpoint(self):
        return self.endpoint.replace("https://", "https://sandbox.")


@dataclass(frozen=True)
class Marketplace:
    id: str
    name: str
    country_code: str
    currency: str
    region: str
    seller_central: str
    prices_include_tax: bool


REGIONS = {
    "NA": Region("NA", "https://sellingpartnerapi-na.amazon.com"),
    "EU": Region("EU", "https://sellingpartnerapi-eu.amazon.com"),
    "FE": Region("FE", "https://sellingpartnerapi-fe.amazon.com"),
}

MARKETPLACES = {
    m.id: m
    for m in (
        Marketplace("A1AM78C64UM0Y8", "Amazon.com.mx", "MX", "MXN", "NA", "sellercentral.amazon.com.mx", True),
        Marketplace("ATVPDKIKX0DER", "Amazon.com", "US", "USD", "NA", "sellercentral.amazon.com", False),
        Marketplace("A2EUQ1WTGCTBG2", "Amazon.ca", "CA", "CAD", "NA", "sellercentral.amazon.ca", False),
        Marketplace("A2Q3Y263D00KWC", "Amazon.com.br", "BR", "BRL", "NA", "sellercentral.amazon.com.br", True),
    )
}


def get_region(code):
    try:
        return REGIONS[code]
    except KeyError:
        raise ConfigurationError(
            f"Unknown Amazon region {code!r}. Choose one of: {', '.join(REGIONS)}."
        ) from None


def get_marketplace(marketplace_id, region=None):
    """The marketplace, checked against the region the connection is authorized for."""
    try:
        mkt = MARKETPLACES[marketplace_id]
    except KeyError:
        raise ConfigurationError(
            f"Unknown Amazon marketplace {marketplace_id!r}. Known: "
            + ", ".join(f"{m.name} ({m.id})" for m in MARKETPLACES.values())
        ) from None
    if region and mkt.region != region:
        raise ConfigurationError(
            f"{mkt.name} belongs to Amazon's {mkt.region} region, not {region}: "
            "authorize the connection for that region."
        )
    return mkt
