"""Read REFI-QDA files safely: a ``.qdpx`` project (a zip of ``project.qde`` and ``Sources/``) or
a ``.qdc`` codebook, into plain Python records.

Both are untrusted. The zip passes kg.archive's checks before anything is read from it (no
absolute path and no ``..`` in a member name, caps on members, on the total uncompressed size and
on each member's compression ratio); members are then read with a byte limit, at most
``kg.archive.MAX_UNPACKED`` in all, and nothing is ever written to disk. The XML is first
scanned by expat, without building anything: a DTD (``<!DOCTYPE``) is refused, so no entity is
expanded and no external file is read, and so is a project with more codes, sources, selections
or codings than ``LIMITS`` allows. lxml then parses without entities, network or huge trees.
Both namespace spellings found in the wild (``urn:QDA-XML:project:1.0`` and ``...:1:0``) are read.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from lxml import etree

from kg import archive as zips
from kg.errors import BadInput

PROJECT_NAMESPACES = ("urn:QDA-XML:project:1.0", "urn:QDA-XML:project:1:0")
CODEBOOK_NAMESPACES = ("urn:QDA-XML:codebook:1.0", "urn:QDA-XML:codebook:1:0")
#: Refuse a .qdpx whose members claim to unpack to more than this: unlike a coding sheet's, its
#: members may be audio, video or PDF sources, which are never inflated. What is inflated (the
#: project.qde and the text sources) is at most kg.archive.MAX_UNPACKED, as for every archive.
MAX_UNPACKED = 2 << 30
MAX_XML = 256 << 20
MAX_TEXT = 64 << 20
#: The most of each element a project (or codebook) may hold, and its name in messages. An import
#: builds the study's RDF and validates it in memory, at about 4.5 ms and 95 KB a coding: 8,000
#: codings (each on its own selection) took 34 s and 810 MB, 16,000 took 74 s and 1.55 GB. A
#: large project of 50 interviews has a few thousand codings; 10,000 keeps an import within about
#: a minute and 1 GB. Sources and codes are bounded so that their loops stay small too.
LIMITS = {
    "Code": (10_000, "codes"),
    "TextSource": (1_000, "text sources"),
    "PlainTextSelection": (10_000, "text selections"),
    "Coding": (10_000, "codings"),
}
#: The most XML elements of any kind: a project within LIMITS has well under 100,000 (a coding is
#: two, a selection one or two), so this bounds the tree lxml builds (about 100 MB).
MAX_ELEMENTS = 250_000
_GUID = re.compile(r"^[0-9a-z][0-9a-z_.-]*$")
_SAFE_PARSER = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "dtd_validation": False,
}


@dataclass
class Code:
    """A code of the codebook; ``key`` is its GUID lower-cased without braces."""

    key: str
    guid: str
    name: str
    description: str = ""
    parent: str | None = None
    note_refs: list[str] = field(default_factory=list)


@dataclass
class CodeSet:
    """A named set of codes (``Sets/Set``), e.g. one called "Findings"."""

    key: str
    name: str
    members: list[str] = field(default_factory=list)


@dataclass
class Coding:
    """One code applied to a selection, by a user at a time."""

    key: str
    code: str
    user: str | None
    created: str | None
    note_refs: list[str] = field(default_factory=list)


@dataclass
class Selection:
    """A ``PlainTextSelection``: a span of a source's text, with its codings."""

    key: str
    guid: str
    name: str
    start: int | None
    end: int | None
    user: str | None
    created: str | None
    codings: list[Coding] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)


@dataclass
class Source:
    """A ``TextSource``; ``text`` is None when it cannot be read (``problem`` says why)."""

    key: str
    guid: str
    name: str
    text: str | None
    problem: str | None = None
    description: str = ""
    note_refs: list[str] = field(default_factory=list)
    selections: list[Selection] = field(default_factory=list)


@dataclass
class Note:
    """A ``Notes/Note`` (a memo) with its text."""

    key: str
    name: str
    text: str
    user: str | None
    created: str | None


@dataclass
class Project:
    """What a .qdpx project or .qdc codebook holds; a codebook has only codes and sets."""

    file: str
    name: str
    is_codebook: bool
    codes: dict[str, Code] = field(default_factory=dict)
    sets: list[CodeSet] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    notes: dict[str, Note] = field(default_factory=dict)
    project_note_refs: list[str] = field(default_factory=list)
    #: What the import leaves out, e.g. {"PDFSource": 1}: only text selections are imported.
    ignored: dict[str, int] = field(default_factory=dict)
    #: (message, where) of what is wrong in the file: each refuses the import.
    problems: list[tuple[str, str]] = field(default_factory=list)


def guid_key(guid: str) -> str:
    """The form GUIDs are compared and minted into IRIs in.

    >>> guid_key("{6F2E0B1A-AAAA-4BBB-8CCC-0123456789AB}")
    '6f2e0b1a-aaaa-4bbb-8ccc-0123456789ab'
    """
    return guid.strip().strip("{}").lower()


def read_qda(path: str | Path) -> Project:
    """Read a ``.qdpx`` project or a ``.qdc`` codebook; BadInput if it is unsafe or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".qdc":
        root = parse_xml(_read_file(path), path.name)
        _expect_root(root, "CodeBook", CODEBOOK_NAMESPACES, path.name)
        project = Project(path.name, path.stem, True)
        reader = _Reader(project, root, None, path.name)
        reader.codebook(root)
        reader.check_sets()
        return project
    if suffix == ".qdpx":
        with Archive(path) as archive:
            name, data = archive.project_file()
            where = f"{path.name}: {name}"
            root = parse_xml(data, where)
            _expect_root(root, "Project", PROJECT_NAMESPACES, where)
            project = Project(path.name, root.get("name") or path.stem, False)
            reader = _Reader(project, root, archive, name)
            reader.project(root)
            reader.check_sets()
            return project
    raise BadInput(f"{path.name}: not a REFI-QDA file (a .qdpx project or a .qdc codebook)")


def _read_file(path: Path) -> bytes:
    if path.stat().st_size > MAX_XML:
        raise BadInput(f"{path.name}: refused: larger than {MAX_XML >> 20} MB")
    return path.read_bytes()


class _Doctype(Exception):
    pass


class _TooMany(Exception):
    pass


def parse_xml(data: bytes, where: str) -> etree._Element:
    """Parse untrusted XML: refuse a DTD and more elements than ``LIMITS`` and ``MAX_ELEMENTS``
    allow (an expat scan that builds nothing), then parse with entities and network off.

    >>> parse_xml(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "x.qdc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kg.errors.BadInput: x.qdc: refused: the XML declares a DTD (<!DOCTYPE>), which REFI-QDA ...
    >>> parse_xml(b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>', "x.qdc").tag
    '{urn:QDA-XML:codebook:1.0}CodeBook'
    """
    scan = expat.ParserCreate()
    counts = dict.fromkeys(LIMITS, 0)
    elements = 0

    def doctype(*_: object) -> None:
        raise _Doctype

    def start(name: str, _attributes: object) -> None:
        nonlocal elements
        elements += 1
        local = name.rpartition(":")[2]
        if local in counts:
            counts[local] += 1
            if counts[local] > LIMITS[local][0]:
                raise _TooMany(*LIMITS[local])
        if elements > MAX_ELEMENTS:
            raise _TooMany(MAX_ELEMENTS, "XML elements")

    scan.StartDoctypeDeclHandler = doctype
    scan.EntityDeclHandler = doctype
    scan.StartElementHandler = start
    scan.ordered_attributes = True
    try:
        scan.Parse(data, True)
    except _Doctype:
        raise BadInput(
            f"{where}: refused: the XML declares a DTD (<!DOCTYPE>), which REFI-QDA files never "
            "use; a DTD can expand entities into gigabytes or read other files"
        ) from None
    except _TooMany as exc:
        limit, what = exc.args
        raise BadInput(
            f"{where}: refused: holds more than {limit:,} {what}; qikg imports at most {limit:,} "
            "(docs/qda-import.md): export a smaller project (fewer sources) from your QDA software"
        ) from None
    except expat.ExpatError as exc:
        raise BadInput(
            f"{where}: not well-formed XML (line {exc.lineno}: {_expat_message(exc)})"
        ) from None
    try:
        return etree.fromstring(data, etree.XMLParser(**_SAFE_PARSER))
    except etree.XMLSyntaxError as exc:
        raise BadInput(f"{where}: not well-formed XML (line {exc.lineno}: {exc.msg})") from None


def _expat_message(exc: expat.ExpatError) -> str:
    return expat.ErrorString(exc.code) or str(exc)


def _expect_root(root: etree._Element, name: str, namespaces: tuple[str, ...], where: str) -> None:
    qname = etree.QName(root)
    if qname.localname != name or qname.namespace not in namespaces:
        found = f"a {qname.localname} element" + (
            f" in namespace {qname.namespace}" if qname.namespace else ""
        )
        raise BadInput(
            f"{where}: expected a REFI-QDA {name} element in namespace {namespaces[0]}, "
            f"found {found}"
        )


class Archive:
    """A .qdpx zip, checked by kg.archive when opened; what is read from it is counted."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self.zip = zips.open_zip(
            path,
            path.name,
            "not a readable .qdpx file: a .qdpx is a zip archive",
            MAX_UNPACKED,
        )
        self.inflated = 0
        self.members = {
            info.filename.replace("\\", "/").casefold(): info
            for info in self.zip.infolist()
            if not info.is_dir()
        }

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()

    def project_file(self) -> tuple[str, bytes]:
        """The name and bytes of ``project.qde`` (or of the one ``.qde`` at the top)."""
        info = self.members.get("project.qde")
        if info is None:
            top = [i for n, i in self.members.items() if n.endswith(".qde") and "/" not in n]
            if len(top) != 1:
                raise BadInput(
                    f"{self.name}: holds no project.qde: is it a REFI-QDA project export "
                    "(.qdpx) from your QDA software?"
                )
            info = top[0]
        return info.filename, self.read(info, MAX_XML)

    def source(self, path: str) -> bytes | None:
        """The bytes of ``Sources/<path>`` (``internal://`` paths), or None if it is not there."""
        wanted = path.replace("\\", "/").lstrip("/").casefold()
        info = self.members.get(f"sources/{wanted}") or self.members.get(wanted)
        return None if info is None else self.read(info, MAX_TEXT)

    def read(self, info: zipfile.ZipInfo, limit: int) -> bytes:
        """A member's bytes (at most ``limit``), within kg.archive.MAX_UNPACKED for all reads."""
        self.inflated += info.file_size
        if self.inflated > zips.MAX_UNPACKED:
            raise BadInput(
                f"{self.name}: refused: its project.qde and text sources unpack to more than "
                f"{zips.size_text(zips.MAX_UNPACKED)}"
            )
        return zips.read_member(self.zip, info, self.name, limit)


def decode_text(data: bytes) -> str:
    """Source text from bytes: UTF-8 (a BOM is dropped) or UTF-16 with a BOM.

    >>> decode_text("\\ufeffæøå".encode("utf-8"))
    'æøå'
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


class _Reader:
    """Walk a CodeBook or Project element into a Project, noting what is wrong where."""

    def __init__(
        self, project: Project, root: etree._Element, archive: Archive | None, file: str
    ) -> None:
        self.p = project
        self.ns = etree.QName(root).namespace
        self.archive = archive
        self.file = file

    def _all(self, el: etree._Element, name: str) -> list[etree._Element]:
        return el.findall(f"{{{self.ns}}}{name}")

    def _one(self, el: etree._Element, name: str) -> etree._Element | None:
        return el.find(f"{{{self.ns}}}{name}")

    def _text(self, el: etree._Element, name: str) -> str:
        child = self._one(el, name)
        return (child.text or "") if child is not None else ""

    def _where(self, el: etree._Element) -> str:
        return f"{self.p.file}: {self.file}, line {el.sourceline}"

    def _key(self, el: etree._Element, attribute: str = "guid") -> str | None:
        value = el.get(attribute)
        key = guid_key(value or "")
        if not _GUID.match(key):
            what = etree.QName(el).localname
            self.p.problems.append(
                (f"a {what} element has no usable {attribute} ({value!r})", self._where(el))
            )
            return None
        return key

    def _refs(self, el: etree._Element, name: str) -> list[str]:
        return [k for ref in self._all(el, name) if (k := self._key(ref, "targetGUID"))]

    def codebook(self, book: etree._Element) -> None:
        codes = self._one(book, "Codes")
        for code in self._all(codes, "Code") if codes is not None else []:
            self._code(code, None)
        self._sets(self._one(book, "Sets"))

    def _code(self, el: etree._Element, parent: str | None) -> None:
        key = self._key(el)
        if key is None:
            return
        if key in self.p.codes:
            self.p.problems.append(
                (f"the code GUID {el.get('guid')} is used twice", self._where(el))
            )
            return
        name = (el.get("name") or "").strip()
        if not name:
            self.p.problems.append((f"the code {el.get('guid')} has no name", self._where(el)))
        self.p.codes[key] = Code(
            key,
            el.get("guid", "").strip(),
            name,
            self._text(el, "Description").strip(),
            parent,
            self._refs(el, "NoteRef"),
        )
        for child in self._all(el, "Code"):
            self._code(child, key)

    def _sets(self, sets: etree._Element | None) -> None:
        for el in self._all(sets, "Set") if sets is not None else []:
            key = self._key(el)
            if key is None:
                continue
            members = [
                k
                for m in self._all(el, "MemberCode")
                if (k := self._key(m, "targetGUID" if m.get("targetGUID") else "guid"))
            ]
            self.p.sets.append(CodeSet(key, (el.get("name") or "").strip(), members))

    def project(self, root: etree._Element) -> None:
        users = self._one(root, "Users")
        for user in self._all(users, "User") if users is not None else []:
            key = self._key(user)
            if key:
                self.p.users[key] = (user.get("name") or user.get("id") or "").strip() or key
        book = self._one(root, "CodeBook")
        if book is not None:
            self.codebook(book)
        self._sets(self._one(root, "Sets"))
        notes = self._one(root, "Notes")
        for note in self._all(notes, "Note") if notes is not None else []:
            key = self._key(note)
            if key:
                text, _ = self._content(note)
                self.p.notes[key] = Note(
                    key,
                    note.get("name") or "",
                    (text or "").strip(),
                    self._user(note),
                    note.get("creationDateTime"),
                )
        self.p.project_note_refs = self._refs(root, "NoteRef")
        sources = self._one(root, "Sources")
        for el in sources if sources is not None else []:
            if not isinstance(el.tag, str):
                continue
            name = etree.QName(el).localname
            if name == "TextSource":
                self._source(el)
            elif next(el.iter(f"{{{self.ns}}}Coding"), None) is not None:
                self._ignore(f"coded {name}")

    def _ignore(self, what: str) -> None:
        self.p.ignored[what] = self.p.ignored.get(what, 0) + 1

    def _user(self, el: etree._Element) -> str | None:
        return guid_key(el.get("creatingUser", "")) or None

    def _content(self, el: etree._Element) -> tuple[str | None, str | None]:
        """A TextSource's (or Note's) text and, when it cannot be read, why not."""
        inline = self._one(el, "PlainTextContent")
        if inline is not None:
            return inline.text or "", None
        path = el.get("plainTextPath") or ""
        if not path:
            return None, "it has neither PlainTextContent nor a plainTextPath"
        scheme, sep, rest = path.partition("://")
        if not sep or scheme.lower() != "internal" or self.archive is None:
            return (
                None,
                f"its text {path!r} is outside the archive (only internal:// paths are read)",
            )
        data = self.archive.source(rest)
        if data is None:
            return None, f"its text {path!r} is not in the archive's Sources folder"
        try:
            return decode_text(data), None
        except UnicodeDecodeError as exc:
            return None, f"its text {path!r} is not UTF-8 (byte {exc.start} cannot be read)"

    def _source(self, el: etree._Element) -> None:
        key = self._key(el)
        if key is None:
            return
        text, problem = self._content(el)
        source = Source(
            key,
            el.get("guid", "").strip(),
            el.get("name") or el.get("guid", ""),
            text,
            problem,
            self._text(el, "Description").strip(),
            self._refs(el, "NoteRef"),
        )
        for sel in self._all(el, "PlainTextSelection"):
            selection = self._selection(sel)
            if selection is not None:
                source.selections.append(selection)
        for _ in self._all(el, "Coding"):
            self._ignore("coding of a whole text source")
        self.p.sources.append(source)

    def _selection(self, el: etree._Element) -> Selection | None:
        key = self._key(el)
        if key is None:
            return None
        selection = Selection(
            key,
            el.get("guid", "").strip(),
            el.get("name") or "",
            _int(el.get("startPosition")),
            _int(el.get("endPosition")),
            self._user(el),
            el.get("creationDateTime"),
            note_refs=self._refs(el, "NoteRef"),
        )
        for coding in self._all(el, "Coding"):
            ref = self._one(coding, "CodeRef")
            code = self._key(ref, "targetGUID") if ref is not None else None
            coding_key = self._key(coding)
            if ref is None:
                self.p.problems.append(("a Coding element has no CodeRef", self._where(coding)))
                continue
            if code is None or coding_key is None:
                continue
            if code not in self.p.codes:
                self.p.problems.append(
                    (
                        f"a coding refers to the code {ref.get('targetGUID')}, which is not in the "
                        "codebook",
                        self._where(ref),
                    )
                )
                continue
            selection.codings.append(
                Coding(
                    coding_key,
                    code,
                    self._user(coding),
                    coding.get("creationDateTime"),
                    self._refs(coding, "NoteRef"),
                )
            )
        return selection

    def check_sets(self) -> None:
        """Note each set that lists a code the codebook does not hold."""
        for code_set in self.p.sets:
            unknown = [m for m in code_set.members if m not in self.p.codes]
            if unknown:
                self.p.problems.append(
                    (
                        f'the set "{code_set.name}" lists the code {unknown[0]}, which is not '
                        "in the codebook",
                        f"{self.p.file}: {self.file}",
                    )
                )


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
