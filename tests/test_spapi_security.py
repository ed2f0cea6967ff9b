"""Where the SP-API layer may send requests, and how much of a report it accepts."""
import gzip

import pytest
from spapi_fakes import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeClock

from bind_amazon_connector.spapi import SpApi, SpApiConfig, errors
from bind_amazon_connector.spapi.auth import build_consent_url
from bind_amazon_connector.spapi.config import check_url
from bind_amazon_connector.spapi.flatfile import DocumentSpool, iter_rows, iter_tsv_rows

DOCS = "/reports/2021-06-30/documents/"


def config(**kw):
    values = {"lwa_client_id": CLIENT_ID, "lwa_client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
    values.update(kw)
    return SpApiConfig(**values)


@pytest.mark.parametrize("url, kind", [
    ("https://sellingpartnerapi-na.amazon.com", "api"),
    ("https://sellingpartnerapi-eu.amazon.com/", "api"),
    ("https://sandbox.sellingpartnerapi-fe.amazon.com", "api"),
    ("https://api.amazon.com/auth/o2/token", "lwa"),
    ("https://api.amazon.co.uk/auth/o2/token", "lwa"),
    ("https://api.amazon.co.jp/auth/o2/token", "lwa"),
    ("https://sellercentral.amazon.com.mx", "seller_central"),
    ("https://sellercentral-europe.amazon.com", "seller_central"),
    ("https://vendorcentral.amazon.co.jp", "seller_central"),
    ("https://tortuga-prod-na.s3-external-1.amazonaws.com/doc?X-Amz-Signature=1", "document"),
    ("https://d34o8swod1owfl.cloudfront.net/Report_47700.txt", "document"),
])
def test_amazon_hosts_are_accepted(url, kind):
    assert check_url(url, kind, allow_loopback=False) == url.rstrip("/")


@pytest.mark.parametrize("url, kind", [
    ("http://sellingpartnerapi-na.amazon.com", "api"),  # plain http to Amazon
    ("https://sellingpartnerapi-na.amazon.com:8443", "api"),
    ("https://sellingpartnerapi-na.amazon.com.evil.example", "api"),
    ("https://evil.example/auth/o2/token", "lwa"),
    ("https://api.amazon.com@evil.example/auth/o2/token", "lwa"),  # credentials trick: the host is evil.example
    ("https://user:pw@api.amazon.com/auth/o2/token", "lwa"),
    ("https://sellingpartnerapi-na.amazon.com", "lwa"),  # right owner, wrong kind
    ("http://169.254.169.254/latest/meta-data/", "api"),  # cloud metadata (link-local)
    ("http://10.0.0.5:8080", "api"),
    ("http://[fe80::1]/", "api"),
    ("https://sellercentral.amazon.evil.example", "seller_central"),
    ("https://amazonaws.com.evil.example/doc", "document"),
    ("http://tortuga-prod-na.s3-external-1.amazonaws.com/doc", "document"),
    ("ftp://sellingpartnerapi-na.amazon.com", "api"),
    ("https://sellingpartnerapi-na.amazon.com/\r\nHost: x", "api"),
    ("", "api"),
])
def test_other_hosts_are_refused_even_with_loopback_allowed(url, kind):
    with pytest.raises(errors.ConfigurationError):
        check_url(url, kind, allow_loopback=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8070", "http://127.8.9.10", "http://localhost:8070",
                                 "http://[::1]:8070"])
def test_loopback_only_when_allowed(url):
    assert check_url(url, "api", allow_loopback=True) == url
    with pytest.raises(errors.ConfigurationError, match="development mode or tests"):
        check_url(url, "api", allow_loopback=False)
    with pytest.raises(errors.ConfigurationError):
        config(endpoint=url, allow_loopback=False)
    with pytest.raises(errors.ConfigurationError):
        config(token_url=url + "/auth/o2/token", allow_loopback=False)


def test_consent_url_only_on_seller_central():
    assert build_consent_url("sellercentral.amazon.com.mx", "amzn1.sp.solution.a", "s", allow_loopback=False) \
        .startswith("https://sellercentral.amazon.com.mx/apps/authorize/consent?")
    for host in ("evil.example", "http://sellercentral.amazon.com.mx", "https://169.254.169.254",
                 "http://127.0.0.1:8070"):
        with pytest.raises(errors.ConfigurationError):
            build_consent_url(host, "amzn1.sp.solution.a", "s", allow_loopback=False)


# ---------------------------------------------------------------- report documents

def _script_document(fake, doc_id, url):
    fake.script(DOCS + doc_id, (200, {}, {"reportDocumentId": doc_id, "url": url}))


def test_foreign_document_url_is_refused_without_a_request(fake_amazon):
    api = SpApi(config(endpoint=fake_amazon.url, token_url=fake_amazon.token_url, allow_loopback=True),
                sleep=FakeClock().sleep)
    for url in ("https://evil.example/doc", "http://169.254.169.254/latest/meta-data/",
                "http://tortuga-prod-na.s3-external-1.amazonaws.com/doc"):
        _script_document(fake_amazon, "DX", url)
        with pytest.raises(errors.BadData, match="report document URL"):
            list(api.iter_report_rows("DX"))
    assert not [r for r in fake_amazon.requests if not r.path.startswith(DOCS)]


def test_gzip_bomb_is_stopped_at_the_cap():
    bomb = gzip.compress(b"a" * (8 * 1024 * 1024))  # 8 MiB of "a" in a few KiB
    assert len(bomb) < 64 * 1024
    spool = DocumentSpool(max_bytes=1024 * 1024)
    with pytest.raises(errors.BadData, match="larger than 1 MiB"):
        spool.write(bomb)
    assert spool.size <= 1024 * 1024 + 256 * 1024  # stopped within one inflated chunk of the cap
    spool.close()


def test_gzip_bomb_through_the_download_is_refused(fake_amazon, monkeypatch):
    from bind_amazon_connector.spapi import flatfile
    monkeypatch.setattr(flatfile, "MAX_DOCUMENT_BYTES", 1024 * 1024)
    _script_document(fake_amazon, "DB", fake_amazon.url + "/download/bomb")
    fake_amazon.script("/download/bomb", (200, {}, gzip.compress(b"sku\tprice\n" + b"x\t1\n" * 2_000_000)))
    api = SpApi(config(endpoint=fake_amazon.url, token_url=fake_amazon.token_url, allow_loopback=True),
                sleep=FakeClock().sleep)
    with pytest.raises(errors.BadData, match="larger than 1 MiB"):
        list(api.iter_report_rows("DB"))


def test_one_huge_field_is_refused():
    data = b"sku\tdescription\nA\t" + b"x" * 2_000_000 + b"\n"
    with pytest.raises(errors.BadData, match="longer than"):
        list(iter_tsv_rows([data]))


def test_too_many_rows_are_refused():
    data = b"sku\n" + b"A\n" * 11
    spool = DocumentSpool()
    spool.write(data)
    encoding = spool.finish()
    assert len(list(iter_rows(spool.file, encoding, max_rows=11))) == 11
    spool.file.seek(0)
    with pytest.raises(errors.BadData, match="more than 10 rows"):
        list(iter_rows(spool.file, encoding, max_rows=10))
    spool.close()


def test_seller_id_is_confirmed_by_a_listings_call(fake_amazon):
    api = SpApi(config(endpoint=fake_amazon.url, token_url=fake_amazon.token_url, allow_loopback=True),
                sleep=FakeClock().sleep)
    fake_amazon.script("/listings/2021-08-01/items/A3MINE", (200, {}, {"numberOfResults": 0, "items": []}))
    assert api.seller_id_matches("A3MINE")
    denied = (403, {}, {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]})
    fake_amazon.script("/listings/2021-08-01/items/A3OTHER", denied, denied)
    assert not api.seller_id_matches("A3OTHER")
    assert not api.seller_id_matches("")
    assert not api.seller_id_matches("A" * 200)
