"""Hostile files: every coding sheet and REFI-QDA file qikg reads is bounded in time and memory.

Each file is built here, at test time, from a valid one: zip bombs (real ones, and ones whose
central directory declares gigabytes), archives of too many members, unknown compression methods,
corrupt deflate streams, sheets whose declared ``<dimension>`` lies, sheets of millions of
formatted empty rows, and a QDA project of 200,000 codings. Each is refused with one clear line
(exit 2) and nothing written, or read correctly, within seconds.
"""

from __future__ import annotations

import json
import logging
import struct
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from lxml import etree

import kg.archive
import kg.qda.read
from kg.errors import BadInput
from kg.qda.read import read_qda
from kg.sheets.read import MAX_CELLS, MAX_COLUMNS, MAX_ROWS, read_tables
from tests.sheets import finding, write_sheet
from tests.test_qda import PROJECT_NS, SID, project_tree, state, write_mapping, write_qdpx, xml

#: A guard, not a benchmark: each of these runs takes a second or two.
SECONDS = 20
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#: The worksheet of the findings sheet in a workbook written by write_sheet (studies come first).
FINDINGS_XML = "xl/worksheets/sheet2.xml"
#: The member of each kind of archive that the reader inflates first.
MEMBER = {".xlsx": FINDINGS_XML, ".zip": "findings.csv", ".qdpx": "project.qde"}
SUFFIXES = list(MEMBER)

#: Runs qikg in a process of its own and writes its exit code, time and peak memory to a file.
#: The peak is the process's own (VmHWM): getrusage's ru_maxrss keeps the parent's peak, which a
#: child inherits at fork and keeps across exec (getrusage(2)), so it would report pytest's.
MEASURED = """
import json, resource, sys, time
from kg.cli import main
start, code = time.monotonic(), 0
try:
    main(sys.argv[2:])
except SystemExit as exc:
    code = int(exc.code or 0)
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(sys.argv[1], "w") as out:  # peak in KiB
    json.dump({"code": code, "seconds": time.monotonic() - start, "mb": peak / 1024}, out)
"""


def measured(tmp_path: Path, *args: str) -> tuple[dict, str]:
    """Run ``qikg ARGS`` in a new process: (exit code, seconds, peak MB) and its stderr."""
    report = tmp_path / "measured.json"
    ran = subprocess.run(
        [sys.executable, "-c", MEASURED, str(report), *args],
        capture_output=True,
        text=True,
        timeout=5 * SECONDS,
    )
    return json.loads(report.read_text()), ran.stderr


# --- building hostile files from good ones ------------------------------------------------------


def good(path: Path, findings: list[dict[str, str]] | None = None) -> Path:
    """A valid file of the kind ``path``'s suffix says: a coding sheet or a .qdpx project."""
    if path.suffix == ".qdpx":
        return write_qdpx(path)
    return write_sheet(path, findings=findings)


def rezip(
    src: Path, dst: Path, replace: dict[str, Iterable[bytes]], add: Iterable[str] = ()
) -> Path:
    """A copy of the zip ``src`` whose members in ``replace`` are written from chunks (so that a
    member of gigabytes needs no memory), with empty members ``add`` after them."""
    with (
        zipfile.ZipFile(src) as old,
        zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new,
    ):
        for info in old.infolist():
            member = zipfile.ZipInfo(info.filename, info.date_time)
            member.compress_type = zipfile.ZIP_DEFLATED
            with new.open(member, "w", force_zip64=True) as out:
                for chunk in replace.get(info.filename, [old.read(info)]):
                    out.write(chunk)
        for name in add:
            new.writestr(name, b"")
    return dst


def findings_xml(path: Path, change: Callable[[etree._Element], None]) -> Path:
    """An .xlsx whose findings worksheet ``change`` edits (as an lxml tree) in place."""
    with zipfile.ZipFile(path) as book:
        assert b'name="findings" sheetId="2"' in book.read("xl/workbook.xml")
        sheet = etree.fromstring(book.read(FINDINGS_XML))
    change(sheet)
    out = path.with_name("edited-" + path.name)
    return rezip(path, out, {FINDINGS_XML: [etree.tostring(sheet)]})


def q(name: str) -> str:
    return f"{{{SHEET_NS}}}{name}"


def declare(ref: str) -> Callable[[etree._Element], None]:
    """Set the worksheet's declared ``<dimension ref>``."""

    def change(sheet: etree._Element) -> None:
        sheet.find(q("dimension")).set("ref", ref)

    return change


def central_directory(data: bytearray, member: str) -> int:
    """Where ``member``'s entry in the central directory starts."""
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == member.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{member} is not in the archive")


def patched(path: Path, member: str, *, method: int | None = None, size: int | None = None,
            corrupt: bool = False) -> Path:  # fmt: skip
    """The archive with ``member``'s compression method or declared (uncompressed) size changed
    in its headers, or the first byte of its deflate stream made an invalid block type."""
    data = bytearray(path.read_bytes())
    entry = central_directory(data, member)
    local = struct.unpack_from("<I", data, entry + 42)[0]
    if method is not None:
        struct.pack_into("<H", data, entry + 10, method)
        struct.pack_into("<H", data, local + 8, method)
    if size is not None:
        assert struct.unpack_from("<I", data, entry + 24)[0] != 0xFFFFFFFF, "a zip64 entry"
        struct.pack_into("<I", data, entry + 24, size)
    if corrupt:
        name, extra = struct.unpack_from("<HH", data, local + 26)
        data[local + 30 + name + extra] = 0xFF  # BFINAL=1, BTYPE=11: "invalid block type"
    out = path.with_name("patched-" + path.name)
    out.write_bytes(bytes(data))
    return out


def bomb(path: Path, size: int) -> Path:
    """A valid file of ``path``'s kind whose first-read member grows by ``size`` letters "A"."""
    src = good(path.with_name("good" + path.suffix))
    with zipfile.ZipFile(src) as archive:
        data = archive.read(MEMBER[path.suffix])
    chunk = b"A" * (1 << 20)
    filler = (chunk for _ in range(size >> 20))
    if path.suffix == ".xlsx":  # one inline-string cell of `size` letters below the findings
        head, tail = data.split(b"</sheetData>")
        cell = (b'<row r="3"><c r="A3" t="inlineStr"><is><t>', b"</t></is></c></row>")
        parts = [head, cell[0], *filler, cell[1], b"</sheetData>", tail]
    elif path.suffix == ".zip":  # one very long finding statement
        parts = [data.rstrip(b"\n"), b",", *filler, b"\n"]
    else:  # a long description of the project
        head, tail = data.split(b"<Users>")
        parts = [head, b"<Description>", *filler, b"</Description><Users>", tail]
    return rezip(src, path, {MEMBER[path.suffix]: parts})


def run(cli, store: str, path: Path, verb: str = "import") -> tuple:
    """``qikg import`` (or ``import-qda`` for a .qdpx) of ``path``: result, seconds taken."""
    args = (
        ["import-qda", str(path), "--study", SID] if path.suffix == ".qdpx" else [verb, str(path)]
    )
    start = time.monotonic()
    ran = cli(*args, store=store)
    return ran, time.monotonic() - start


@pytest.fixture
def study_store(fresh_store_path: str, tmp_path: Path, cli) -> str:
    """A store holding the test study, so that a .qdpx import gets as far as its file."""
    sheet = write_sheet(tmp_path / "study.xlsx", findings=[])
    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    return fresh_store_path


def refused(cli, store: str, path: Path, message: str) -> None:
    """The import of ``path`` exits 2 with ``message`` in one line, in seconds, writing nothing."""
    before = state(store)
    ran, seconds = run(cli, store, path)
    assert ran.exit_code == 2, ran.err
    assert message in ran.err, ran.err
    assert "Traceback" not in ran.err and "internal error" not in ran.err
    assert len(ran.err.strip().splitlines()) == 1, ran.err
    assert seconds < SECONDS
    assert state(store) == before


# --- archives: the same checks for .xlsx, .zip and .qdpx ----------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_zip_bomb_is_refused_before_it_is_inflated(study_store, tmp_path, cli, suffix):
    path = bomb(tmp_path / f"bomb{suffix}", 32 << 20)
    assert path.stat().st_size < 1 << 20
    refused(cli, study_store, path, "unpacks to more than 200 times its packed size")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_declared_size_past_the_cap_is_refused_from_the_central_directory(
    study_store, tmp_path, cli, suffix
):
    path = patched(good(tmp_path / f"p{suffix}"), MEMBER[suffix], size=0xF000_0000)
    cap = "2 GB" if suffix == ".qdpx" else "512 MB"
    refused(cli, study_store, path, f"refused: the archive unpacks to more than {cap}")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_archive_of_too_many_members_is_refused(study_store, tmp_path, cli, suffix):
    src = good(tmp_path / f"good{suffix}")
    extra = [f"junk/{n}.txt" for n in range(kg.archive.MAX_MEMBERS)]
    path = rezip(src, tmp_path / f"many{suffix}", {}, add=extra)
    refused(cli, study_store, path, "refused: the archive holds more than 10,000 files")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_unknown_compression_method_is_refused(study_store, tmp_path, cli, suffix):
    path = patched(good(tmp_path / f"p{suffix}"), MEMBER[suffix], method=99)
    refused(cli, study_store, path, f"{MEMBER[suffix]} is packed with compression method 99")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_corrupt_deflate_stream_is_refused(study_store, tmp_path, cli, suffix):
    path = patched(good(tmp_path / f"p{suffix}"), MEMBER[suffix], corrupt=True)
    refused(cli, study_store, path, "damaged or truncated (Error -3 while decompressing data")


def test_a_member_longer_than_its_declared_size_is_never_read_past_it(tmp_path):
    # zipfile inflates no more than the central directory declares, then checks the CRC
    path = write_sheet(tmp_path / "sheet.zip")
    with zipfile.ZipFile(path) as archive:
        declared = archive.getinfo("findings.csv").file_size - 10
    with pytest.raises(BadInput, match=r"findings.csv is damaged or truncated \(Bad CRC-32"):
        read_tables(patched(path, "findings.csv", size=declared))


def test_a_bomb_workbook_stays_small_in_memory(built_store_path, tmp_path):
    path = bomb(tmp_path / "bomb.xlsx", 600 << 20)  # a 600 MB cell, 0.6 MB packed
    numbers, err = measured(tmp_path, "--store", built_store_path, "validate", str(path))
    assert numbers["code"] == 2, err
    assert "bomb.xlsx: refused: the archive unpacks to more than 512 MB" in err
    assert numbers["seconds"] < SECONDS
    assert numbers["mb"] < 300, numbers  # reading it took 8 GB before the archive was checked


# --- sheets: read as far as their content goes, within limits ----------------------------------


def test_rows_below_the_declared_dimension_are_all_read(tmp_path, cli, built_store_path):
    rows = [finding(finding_id=f"F{n}") for n in range(1, 5)]
    path = findings_xml(write_sheet(tmp_path / "sheet.xlsx", findings=rows), declare("A1:P2"))
    findings = read_tables(path)["findings"]
    assert [r.get("finding_id") for r in findings.rows] == ["F1", "F2", "F3", "F4"]
    ran = cli("validate", str(path), store=built_store_path)
    assert ran.exit_code == 0 and "4 findings" in ran.out + ran.err, ran.out + ran.err


def far_row(number: int, text: str | None) -> Callable[[etree._Element], None]:
    """Add row ``number`` to the worksheet: a finding, or a formatted empty cell."""

    def change(sheet: etree._Element) -> None:
        row = etree.SubElement(sheet.find(q("sheetData")), q("row"), r=str(number))
        if text is None:
            etree.SubElement(row, q("c"), r=f"A{number}", s="1")
            return
        for column, value in zip(
            "ABC", (text, finding()["study_id"], "A far finding."), strict=True
        ):
            cell = etree.SubElement(row, q("c"), r=f"{column}{number}", t="inlineStr")
            etree.SubElement(etree.SubElement(cell, q("is")), q("t")).text = value

    return change


def test_a_million_row_dimension_is_not_read_as_a_million_rows(tmp_path):
    path = findings_xml(write_sheet(tmp_path / "sheet.xlsx"), declare("A1:XFD1048576"))
    path = findings_xml(path, far_row(20_000, "FAR"))
    assert path.stat().st_size < 10_000
    start = time.monotonic()
    findings = read_tables(path)["findings"]
    assert time.monotonic() - start < SECONDS  # 48 s when the declared width padded every row
    assert [(r.number, r.get("finding_id")) for r in findings.rows] == [(2, "F1"), (20_000, "FAR")]


def test_a_row_past_the_row_limit_is_refused_at_once(tmp_path):
    path = findings_xml(write_sheet(tmp_path / "sheet.xlsx"), far_row(1_000_000, None))
    start = time.monotonic()
    with pytest.raises(BadInput, match=f"it has rows past row {MAX_ROWS:,}"):
        read_tables(path)
    assert time.monotonic() - start < SECONDS


def test_a_sheet_of_formatted_empty_rows_is_refused_in_seconds(built_store_path, tmp_path, cli):
    def styled_rows(sheet: etree._Element) -> None:
        rows = sheet.find(q("sheetData"))
        for number in range(3, MAX_ROWS + 100):
            row = etree.SubElement(rows, q("row"), r=str(number))
            etree.SubElement(row, q("c"), r=f"A{number}", s="1")

    path = findings_xml(write_sheet(tmp_path / "sheet.xlsx"), styled_rows)
    ran, seconds = run(cli, built_store_path, path, "validate")
    assert ran.exit_code == 2 and "qikg reads at most 200,000 rows a sheet" in ran.err, ran.err
    assert seconds < SECONDS


@pytest.mark.parametrize(
    "rows,columns,message",
    [
        (2, MAX_COLUMNS + 1, f"row 1 has more than {MAX_COLUMNS:,} columns"),
        (MAX_CELLS // 200 + 1, 200, f"more than {MAX_CELLS:,} cells"),
    ],
    ids=["columns", "cells"],
)
def test_too_many_columns_or_cells_are_refused(tmp_path, rows, columns, message):
    folder = tmp_path / "sheet"
    folder.mkdir()
    header = ",".join(["finding_id", "study_id", "statement"] + [f"x{n}" for n in range(columns)])
    (folder / "findings.csv").write_text(header + "\n" + ("a,b,c" + "," * columns + "\n") * rows)
    with pytest.raises(BadInput, match=message):
        read_tables(folder)


def test_a_compact_date_gets_one_clear_message(built_store_path, tmp_path):
    path = write_sheet(tmp_path / "sheet.xlsx", findings=[finding(coded_on="20250101")])
    ran = subprocess.run(
        [sys.executable, "-m", "kg", "--store", built_store_path, "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=5 * SECONDS,
    )
    assert ran.returncode == 1
    assert 'The coding date "20250101" is not a date: write it as YYYY-MM-DD' in ran.stdout
    assert "Traceback" not in ran.stderr and "Failed to convert" not in ran.stderr, ran.stderr


def test_a_compact_coding_time_gives_a_date_without_rdflib_warnings(study_store, tmp_path, caplog):
    from kg.qda import import_qda
    from kg.store import open_store

    tree = project_tree()
    for coding in tree.iter(f"{{{PROJECT_NS}}}Coding"):
        coding.set("creationDateTime", "20250301T100000Z")  # ISO 8601's basic format
    path = write_qdpx(tmp_path / "p.qdpx", xml(tree))
    with caplog.at_level(logging.WARNING), open_store(study_store) as store:
        result = import_qda(store, path, SID, write_mapping(tmp_path / "m.tsv"), dry_run=True)
    assert result.findings == 1
    assert not [r for r in caplog.records if r.name.startswith("rdflib")], caplog.text


# --- REFI-QDA projects: bounded counts, refused before the tree is built -------------------------


def project(codings: int, selections: int, codes: int = 40) -> bytes:
    """A project.qde with ``codings`` codings spread over ``selections`` selections of one text
    source; code 0 is a finding code (a member of the set "Findings")."""

    def guid(name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qikg-test/hostile/{name}")).upper()

    words = "Vi har ikke tid til forbedringsarbejdet. "
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<Project xmlns="urn:QDA-XML:project:1.0" name="big">',
        f'<Users><User guid="{guid("user")}" name="Coder"/></Users><CodeBook><Codes>',
        *(
            f'<Code guid="{guid(f"code{c}")}" name="Code {c}" isCodable="true">'
            + ("<Description>Nurses lack time.</Description>" if c == 0 else "")
            + "</Code>"
            for c in range(codes)
        ),
        f'</Codes></CodeBook><Sources><TextSource guid="{guid("source")}" name="Interview">',
        f"<PlainTextContent>{words * selections}</PlainTextContent>",
    ]
    per = codings // selections
    for s in range(selections):
        start = s * len(words)
        parts.append(
            f'<PlainTextSelection guid="{guid(f"sel{s}")}" name="{words.strip()}" '
            f'startPosition="{start}" endPosition="{start + len(words) - 1}">'
        )
        for n in range(s * per, (s + 1) * per):
            parts.append(
                f'<Coding guid="{guid(f"coding{n}")}">'
                f'<CodeRef targetGUID="{guid(f"code{n % codes}")}"/></Coding>'
            )
        parts.append("</PlainTextSelection>")
    parts.append(
        f'</TextSource></Sources><Sets><Set guid="{guid("set")}" name="Findings">'
        f'<MemberCode targetGUID="{guid("code0")}"/></Set></Sets></Project>'
    )
    return "".join(parts).encode()


def test_a_project_of_200000_codings_is_refused_in_seconds_in_little_memory(study_store, tmp_path):
    path = write_qdpx(tmp_path / "big.qdpx", project(200_000, 1_000), files={})
    assert path.stat().st_size < 8 << 20
    before = state(study_store)
    args = ["--store", study_store, "import-qda", str(path), "--study", SID]
    numbers, err = measured(tmp_path, *args)
    assert numbers["code"] == 2, err
    assert "big.qdpx: project.qde: refused: holds more than 10,000 codings" in err
    assert "Traceback" not in err
    assert numbers["seconds"] < SECONDS  # past 300 s and 5 GB when it was read whole
    assert numbers["mb"] < 300, numbers
    assert state(study_store) == before


@pytest.mark.parametrize(
    "element,what,count",
    [("Code", "codes", 6), ("TextSource", "text sources", 2), ("Coding", "codings", 12)],
)
def test_each_limit_of_a_project_is_named(tmp_path, monkeypatch, element, what, count):
    monkeypatch.setitem(kg.qda.read.LIMITS, element, (count - 1, what))
    qde = project(12, 4, codes=6)
    if element == "TextSource":
        qde = qde.replace(b"</Sources>", b'<TextSource guid="x" name="y"/></Sources>')
    path = write_qdpx(tmp_path / "p.qdpx", qde, files={})
    with pytest.raises(BadInput, match=f"refused: holds more than {count - 1:,} {what}; qikg"):
        read_qda(path)
    monkeypatch.setattr(kg.qda.read, "MAX_ELEMENTS", 10)
    monkeypatch.setitem(kg.qda.read.LIMITS, element, (count, what))
    with pytest.raises(BadInput, match="refused: holds more than 10 XML elements"):
        read_qda(path)


@pytest.mark.slow
def test_a_finding_code_on_10000_selections_is_built_without_comparing_all_pairs(
    study_store, tmp_path
):
    from kg.qda.mapping import Mapping, Row
    from kg.qda.to_rdf import build
    from kg.store import open_store
    from kg.vocabulary import Vocabulary

    path = write_qdpx(tmp_path / "p.qdpx", project(10_000, 10_000, codes=1), files={})
    parsed = read_qda(path)
    with open_store(study_store) as store:
        vocab = Vocabulary.from_store(store)
    (code,) = parsed.codes
    concept = "https://w3id.org/qikg/ontology#LackOfTime"
    exact = "http://www.w3.org/2004/02/skos/core#exactMatch"
    mapping = Mapping("m.tsv", [Row(2, code, exact, concept, finding=True)])
    start = time.monotonic()
    built = build(parsed, SID, mapping, vocab)
    assert time.monotonic() - start < SECONDS  # 65 s when each selection met every other
    assert built.findings == 1 and built.quotes == 10_000
