"""Report rows: encodings of Mexican reports, gzip, streaming of large files."""
import gzip
import tracemalloc

import pytest

from bind_amazon_connector.spapi import errors
from bind_amazon_connector.spapi.flatfile import iter_tsv_rows

HEADER = "seller-sku\titem-name\tprice\tquantity\n"
ROWS = [{"seller-sku": "CAFE-1", "item-name": "Café Ñandú", "price": "174.00", "quantity": "3"},
        {"seller-sku": "PIÑA-2", "item-name": 'Piña "colada" – ½ kg', "price": "99.50", "quantity": "0"}]


def tsv(rows=ROWS):
    return HEADER + "".join("\t".join(r.values()) + "\n" for r in rows)


def chunked(data, size=7):
    return [data[i:i + size] for i in range(0, len(data), size)]


def test_utf8_with_bom():
    data = b"\xef\xbb\xbf" + tsv().encode("utf-8")
    assert list(iter_tsv_rows(chunked(data))) == ROWS  # the BOM is not glued to the first column name


def test_utf8_without_bom_and_multibyte_characters_split_across_chunks():
    data = tsv().encode("utf-8")
    assert list(iter_tsv_rows(chunked(data, 1))) == ROWS


def test_cp1252_with_accents():
    data = tsv().encode("cp1252")  # "–" and "½" exist in cp1252, not as these bytes in latin-1 or UTF-8
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert list(iter_tsv_rows(chunked(data))) == ROWS


def test_bytes_undefined_in_cp1252_fall_back_to_latin1():
    data = HEADER.encode() + b"X\t\xe9\x81\t2\t3\n"  # not UTF-8; 0x81 is undefined in cp1252
    assert list(iter_tsv_rows([data]))[0]["item-name"] == "é\x81"


def test_gzip_crlf_missing_and_extra_cells():
    text = HEADER.replace("\n", "\r\n") + "A\tB\r\n\r\nC\tD\t1\t2\tsurplus\t\r\n"
    rows = list(iter_tsv_rows(chunked(gzip.compress(text.encode("cp1252")), 5)))
    assert rows == [{"seller-sku": "A", "item-name": "B", "price": "", "quantity": ""},
                    {"seller-sku": "C", "item-name": "D", "price": "1", "quantity": "2", "column5": "surplus"}]


def test_broken_gzip_is_bad_data():
    data = gzip.compress(tsv().encode())
    with pytest.raises(errors.BadData, match="truncated"):
        list(iter_tsv_rows([data[:-12]]))
    with pytest.raises(errors.BadData, match="not a valid gzip"):
        list(iter_tsv_rows([data[:10] + b"garbage" * 20]))


def test_large_file_is_streamed_not_loaded():
    n = 80_000
    line = "SKU-{:06d}\tCafé de Chiapas, tostado medio, bolsa de 1 kg con válvula\t{}.00\t{}\n"

    def chunks():
        yield HEADER.encode("cp1252")
        block = []
        for i in range(n):
            block.append(line.format(i, i % 500, i % 7))
            if len(block) == 2000:
                yield "".join(block).encode("cp1252")
                block = []

    compressed = gzip.compress(b"".join(chunks()))
    size = len(gzip.decompress(compressed))
    assert size > 6_000_000  # more than the in-memory spool: goes to disk
    pieces = chunked(compressed, 64 * 1024)
    tracemalloc.start()
    try:
        count = 0
        rows = iter_tsv_rows(pieces)
        for row in rows:
            count += 1
            if count == n // 2:
                assert row["seller-sku"] == f"SKU-{n // 2 - 1:06d}" and row["item-name"].startswith("Café")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    print(f"streamed {count} rows, {size} bytes: peak traced memory {peak} bytes")
    assert peak < size / 3, f"peak {peak} bytes for a {size} byte file: rows were not streamed"
