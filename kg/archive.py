"""Open untrusted zip archives: an ``.xlsx`` workbook, a ``.zip`` coding sheet, a ``.qdpx`` project.

Every archive qikg reads passes the same checks, made from the zip's central directory before a
byte is inflated: not too many members, no absolute path and no ``..`` in a member name, only
compression methods zipfile can unpack, no encryption, a cap on the total unpacked size and on
each member's compression ratio (a zip bomb). While a member is read, zipfile itself stops at the
size the central directory declares and then checks the CRC, so no member inflates past what was
checked; what zipfile and zlib raise for a damaged member becomes BadInput (``reading``).

>>> import io, zipfile
>>> packed = io.BytesIO()
>>> with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
...     z.writestr("findings.csv", b"0" * (8 << 20))
>>> open_zip(packed, "bomb.zip", "not a readable .zip file")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
kg.errors.BadInput: bomb.zip: refused: findings.csv unpacks to more than 200 times its packed ...
"""

from __future__ import annotations

import contextlib
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from kg.errors import BadInput

#: Refuse an archive whose members claim to unpack to more than this in all. A coding sheet of
#: tens of thousands of findings unpacks to tens of MB; this is ten times the largest we know,
#: and what one import may inflate in the explorer's own process.
MAX_UNPACKED = 512 << 20
#: Refuse a member that unpacks to more than this many times its packed size (a zip bomb): text
#: and spreadsheet XML pack 5 to 30 times; zeros pack about 1,000 times.
MAX_RATIO = 200
#: ... once it is larger than this (small files compress well for innocent reasons).
RATIO_FLOOR = 1 << 20
#: Refuse an archive of more members than this: an .xlsx holds a few dozen, a .zip coding sheet
#: two or three, a .qdpx one per source (qikg reads at most 1,000 text sources). Reading the
#: directory of 500,000 empty members (45 MB, under the explorer's upload limit) took 2.6 s and
#: 285 MB, so the count is checked before zipfile reads the directory.
MAX_MEMBERS = 10_000
#: The compression methods zipfile unpacks (others raise NotImplementedError when read).
METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
#: What zipfile, zlib, bz2 and lzma raise when a member is damaged or truncated.
UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    EOFError,
    OSError,
)


def size_text(size: int) -> str:
    """A size in the words of a message.

    >>> size_text(512 << 20), size_text(2 << 30)
    ('512 MB', '2 GB')
    """
    if size >= 1 << 30 and size % (1 << 30) == 0:
        return f"{size >> 30} GB"
    if size >= 1 << 20:
        return f"{size / (1 << 20):,.0f} MB"
    return f"{size:,} bytes"


def open_zip(
    source: str | Path | BinaryIO, name: str, unreadable: str, max_unpacked: int = MAX_UNPACKED
) -> zipfile.ZipFile:
    """The zip archive at ``source`` (a path or a binary file), checked as the module says.

    ``name`` is the file's name in messages; ``unreadable`` says what a file that is no zip is
    not (``"not a readable .xlsx workbook"``). Raise BadInput for anything refused.
    """
    try:
        with contextlib.ExitStack() as stack:
            stream = source if hasattr(source, "read") else stack.enter_context(open(source, "rb"))
            _count_members(stream, name)  # type: ignore[arg-type]
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise BadInput(f"{name}: {unreadable} ({exc})") from None
    try:
        check(archive, name, max_unpacked)
    except BadInput:
        archive.close()
        raise
    return archive


def _count_members(stream: BinaryIO, name: str) -> None:
    """Refuse too many members from the end-of-directory record, before zipfile reads them all.

    zipfile has no public way to read that record; without it, the count is checked by ``check``.
    """
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:
        return
    stream.seek(0)
    record = end_record(stream)
    stream.seek(0)
    entries = getattr(zipfile, "_ECD_ENTRIES_TOTAL", None)
    if record is not None and entries is not None and record[entries] > MAX_MEMBERS:
        raise BadInput(_too_many(name))


def _too_many(name: str) -> str:
    return f"{name}: refused: the archive holds more than {MAX_MEMBERS:,} files"


def check(archive: zipfile.ZipFile, name: str, max_unpacked: int = MAX_UNPACKED) -> None:
    """Refuse an archive whose central directory is unsafe (see the module docstring)."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise BadInput(_too_many(name))
    total = 0
    for info in members:
        path = info.filename.replace("\\", "/")
        if (
            path.startswith("/")
            or PureWindowsPath(info.filename).drive
            or ".." in PurePosixPath(path).parts
        ):
            raise BadInput(f"{name}: refused: the archive holds an unsafe path {info.filename!r}")
        if info.flag_bits & 0x1:
            raise BadInput(f"{name}: refused: {info.filename} is encrypted")
        if info.compress_type not in METHODS:
            method = getattr(zipfile, "compressor_names", {}).get(info.compress_type, "unknown")
            raise BadInput(
                f"{name}: refused: {info.filename} is packed with compression method "
                f"{info.compress_type} ({method}), which qikg cannot unpack: save the file "
                "again, or zip it with a standard tool (deflate)"
            )
        total += info.file_size
        if total > max_unpacked:
            raise BadInput(
                f"{name}: refused: the archive unpacks to more than {size_text(max_unpacked)}"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BadInput(
                f"{name}: refused: {info.filename} unpacks to more than {MAX_RATIO} times its "
                "packed size (a zip bomb?)"
            )


@contextlib.contextmanager
def reading(name: str, what: str) -> Iterator[None]:
    """Turn what zipfile and zlib raise for a damaged member ``what`` into one BadInput line."""
    try:
        yield
    except UNREADABLE as exc:
        raise BadInput(
            f"{name}: refused: {what} is damaged or truncated ({exc or type(exc).__name__})"
        ) from None


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limit: int) -> bytes:
    """A member's bytes, if its declared size is within ``limit``: zipfile reads no more than
    that size, and a member whose data is longer (or otherwise not what the CRC says) is damaged.
    """
    if info.file_size > limit:
        raise BadInput(f"{name}: refused: {info.filename} is larger than {size_text(limit)}")
    with reading(name, info.filename), archive.open(info) as stream:
        return stream.read()
