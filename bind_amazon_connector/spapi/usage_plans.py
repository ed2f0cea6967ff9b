"""Amazon's published usage plans (requests per second, burst) per SP-API operation.

One table for the client's pacing and for the simulator's throttling. Amazon may apply a
different rate to a given seller: the client corrects it from the `x-amzn-RateLimit-Limit`
response header.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # requests per second, sustained
    burst: int  # requests that can be sent at once after a quiet period


USAGE_PLANS = {
    "searchOrders": UsagePlan(0.0056, 20),
    "getOrder": UsagePlan(0.5, 30),
    "getListingsItem": UsagePlan(5, 10),
    "patchListingsItem": UsagePlan(5, 5),
    "searchListingsItems": UsagePlan(5, 5),
    "getInventorySummaries": UsagePlan(2, 2),
    "listTransactions": UsagePlan(0.5, 10),
    "createReport": UsagePlan(0.0167, 15),
    "getReport": UsagePlan(2, 15),
    "getReports": UsagePlan(0.0222, 10),
    "getReportDocument": UsagePlan(0.0167, 15),
    "getMarketplaceParticipations": UsagePlan(0.016, 15),
    "createRestrictedDataToken": UsagePlan(1, 10),
    "confirmShipment": UsagePlan(2, 10),
}
