"""Amazon's tab-separated flat-file reports: gzip-aware spooling, encoding detection, streamed rows.

Seller Central reports for Mexico are often not UTF-8. The document is spooled to a temporary file (in memory
up to a few MiB, then on disk) while checking, chunk by chunk, whether it is valid UTF-8; it is then read
with ``utf-8-sig`` (a UTF-8 byte order mark is dropped), else ``cp1252`` if every byte is defined there,
else ``latin-1`` (which accepts any byte). Rows are produced one at a time: the file is never held in a list.
"""
import codecs
import csv
import io
import tempfile
import zlib

from .errors import BadData

GZIP_MAGIC = b"\x1f\x8b"
SPOOL_IN_MEMORY = 1024 * 1024
_CHUNK = 256 * 1024
#: Caps on what one report may become once decompressed: a listings report of 100,000 offers is well under
#: 200 MiB, so anything beyond is refused (a small gzip can inflate to gigabytes) instead of filling the disk.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_FIELD_CHARS = 1024 * 1024

csv.field_size_limit(max(csv.field_size_limit(), 32 * 1024 * 1024))  # long item descriptions


class DocumentSpool:
    """Collects a document's bytes (gunzipping when they start with the gzip magic) and detects its encoding."""

    def __init__(self, max_bytes=None):
        self.max_bytes = MAX_DOCUMENT_BYTES if max_bytes is None else max_bytes
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        self._head = b""
        self._gunzip = None
        self._started = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._is_utf8 = True
        self.size = 0

    def write(self, chunk):
        if not chunk:
            return
        if not self._started:
            self._head += chunk
            if len(self._head) < len(GZIP_MAGIC):
                return
            chunk, self._head, self._started = self._head, b"", True
            if chunk.startswith(GZIP_MAGIC):
                self._gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._gunzip is None:
            self._store(chunk)
            return
        try:
            while chunk:  # inflate at most _CHUNK bytes at a time: memory stays flat whatever the ratio
                self._store(self._gunzip.decompress(chunk, _CHUNK))
                chunk = self._gunzip.unconsumed_tail
                if self._gunzip.eof and self._gunzip.unused_data:  # concatenated gzip members
                    chunk = self._gunzip.unused_data
                    self._gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        except zlib.error:
            raise BadData("The report document Amazon sent is not a valid gzip file.") from None

    def _store(self, data):
        if not data:
            return
        self.size += len(data)
        if self.size > self.max_bytes:
            raise BadData(f"The report document is larger than {self.max_bytes // (1024 * 1024)} MiB once "
                          "decompressed: refused. Ask Amazon for a shorter period or fewer listings.")
        if self._is_utf8:
            try:
                self._utf8.decode(data)
            except UnicodeDecodeError:
                self._is_utf8 = False
        self.file.write(data)

    def finish(self):
        """Flush what is pending; return the detected encoding, with the file rewound."""
        if not self._started and self._head:
            self._started = True
            self._store(self._head)
        if self._gunzip is not None:
            try:
                self._store(self._gunzip.flush())
            except zlib.error:
                raise BadData("The report document Amazon sent is not a valid gzip file.") from None
            if not self._gunzip.eof:
                raise BadData("The report document Amazon sent is truncated (incomplete gzip data).")
        if self._is_utf8:
            try:
                self._utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                self._is_utf8 = False
        encoding = "utf-8-sig" if self._is_utf8 else self._single_byte_encoding()
        self.file.seek(0)
        return encoding

    def _single_byte_encoding(self):
        self.file.seek(0)
        while True:
            block = self.file.read(_CHUNK)
            if not block:
                return "cp1252"
            try:
                block.decode("cp1252")
            except UnicodeDecodeError:
                return "latin-1"

    def close(self):
        self.file.close()


def _rows(reader):
    try:
        yield from reader
    except csv.Error as exc:
        raise BadData(f"The report document cannot be read as a tab-separated file ({exc}).") from None


def iter_rows(binary_file, encoding, max_rows=None, max_field=None):
    """Rows of a tab-separated file with a header line, as dicts of column name to text.

    Amazon's flat files are not quoted: quotes are data (``QUOTE_NONE``). Missing trailing cells are "";
    non-empty cells beyond the header are kept as ``column<N>`` (1-based). Blank lines are skipped.
    More than ``max_rows`` rows or a cell longer than ``max_field`` characters raise BadData.
    """
    max_rows = MAX_ROWS if max_rows is None else max_rows
    max_field = MAX_FIELD_CHARS if max_field is None else max_field
    text = io.TextIOWrapper(binary_file, encoding=encoding, newline="")
    count = 0
    try:
        reader = csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = None
        for row in _rows(reader):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if any(len(cell) > max_field for cell in row):
                raise BadData(f"The report document has a value longer than {max_field} characters: refused.")
            count += 1
            if count > max_rows + 1:  # the header line is not a row
                raise BadData(f"The report document has more than {max_rows} rows: refused. Ask Amazon for a "
                              "shorter period.")
            if header is None:
                header = [name.strip() for name in row]
                continue
            record = dict(zip(header, row, strict=False))
            if len(row) < len(header):
                for name in header[len(row):]:
                    record[name] = ""
            for n, value in enumerate(row[len(header):], start=len(header) + 1):
                if value:
                    record[f"column{n}"] = value
            yield record
    finally:
        text.detach()


def iter_tsv_rows(chunks):
    """Rows of a flat file given as an iterable of byte chunks (plain or gzip)."""
    spool = DocumentSpool()
    try:
        for chunk in chunks:
            spool.write(chunk)
        encoding = spool.finish()
        yield from iter_rows(spool.file, encoding)
    finally:
        spool.close()
