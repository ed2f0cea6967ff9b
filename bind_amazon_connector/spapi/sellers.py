"""Sellers v1: the seller account's marketplaces (also a cheap check that the authorization works)."""
from dataclasses import dataclass, field

from .errors import AuthorizationError, BadData
from .values import _bool, _check_obj, _items, _obj, _str


@dataclass(frozen=True)
class MarketplaceParticipation:
    """One marketplace of the seller account (Sellers v1 ``MarketplaceParticipation``)."""

    marketplace_id: str
    name: str
    country_code: str
    currency: str
    is_participating: bool
    has_suspended_listings: bool = False
    store_name: str | None = None
    language_code: str | None = None
    domain_name: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def parse_marketplace_participation(d, path="marketplaceParticipation"):
    _check_obj(d, path)
    mkt = _obj(d, "marketplace", path, required=True)
    part = _obj(d, "participation", path, required=True)
    p = f"{path}.marketplace"
    return MarketplaceParticipation(
        marketplace_id=_str(mkt, "id", p, required=True),
        name=_str(mkt, "name", p, required=True),
        country_code=_str(mkt, "countryCode", p, required=True),
        currency=_str(mkt, "defaultCurrencyCode", p, required=True),
        is_participating=_bool(part, "isParticipating", f"{path}.participation", required=True),
        has_suspended_listings=bool(_bool(part, "hasSuspendedListings", f"{path}.participation")),
        store_name=_str(d, "storeName", path),
        language_code=_str(mkt, "defaultLanguageCode", p),
        domain_name=_str(mkt, "domainName", p),
        raw=d,
    )


def parse_marketplace_participations(body, path="getMarketplaceParticipations"):
    """The ``payload`` list of a ``GetMarketplaceParticipationsResponse``."""
    _check_obj(body, path)
    return _items(body, "payload", path, parse_marketplace_participation, required=True)


class SellersApi:
    """The Sellers calls of :class:`.client.SpApi`."""

    def get_marketplace_participations(self):
        """The marketplaces of the seller account (also a cheap check that the authorization works)."""
        reply = self._call("getMarketplaceParticipations", "sellers", "get_marketplace_participation")
        return list(parse_marketplace_participations(reply.body))

    def seller_id_matches(self, seller_id):
        """Whether ``seller_id`` is the selling partner who gave this authorization.

        The Sellers API does not return the merchant token, but the Listings Items API refuses (403) a seller id
        other than the authorizing one: one ``searchListingsItems`` call for a single item tells them apart.
        """
        if not seller_id or not isinstance(seller_id, str) or len(seller_id) > 64:
            return False
        try:
            self._call("searchListingsItems", "listings", "search_listings_items", seller_id,
                       marketplaceIds=self.config.marketplace_id, pageSize=1)
        except (AuthorizationError, BadData):
            return False
        return True
