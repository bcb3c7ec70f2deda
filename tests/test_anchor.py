"""Re-anchoring drifted selections: the stored quote is the passage, character for character, or
the selection is refused; never a shorter, longer or different text.

Names as the tools write them: the whole text (QualCoder), its first 20 characters (ATLAS.ti,
MAXQDA previews), the same with "…" or "...", nothing, or a label that is not in the text.
Drift of every kind: CRLF counted as one, UTF-16 units, composed characters, and a constant
offset before and after Danish letters, emoji and combining characters.
"""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml.builder import ElementMaker

from kg.qda.anchor import EXACT, UNCHECKED, SourceText, Unanchorable
from tests.test_qda import PROJECT_NS, SID, guid, select, study_store  # noqa: F401

ISSUE_PASSAGE = "Registering the indicators took hours each week"
ISSUE_TEXT = f"Q: How was it?\nA: {ISSUE_PASSAGE}. We gave up in May."

#: (label, raw source text, the passage coded in it)
TEXTS = [
    ("ascii", ISSUE_TEXT, ISSUE_PASSAGE),
    (
        "danish",
        "Interviewer: Hvordan gik det?\nÅse: Sygeplejerskerne på afdelingen følte sig overset.",
        "Sygeplejerskerne på afdelingen følte sig overset",
    ),
    (
        "emoji before",
        "Bjørn: 😩👩\u200d⚕\ufe0f travlt. Vi mangler tid til at måle resultaterne hver uge.",
        "Vi mangler tid til at måle resultaterne hver uge",
    ),
    (
        "emoji inside",
        "Bjørn: travlt. Vi mangler tid 😩 til at måle resultaterne hver uge. Slut.",
        "Vi mangler tid 😩 til at måle resultaterne hver uge",
    ),
    (
        "combining before",
        "A\u030ase: ja.\nEfter sidste møde føler vi os mere engagerede i teamet.",
        "Efter sidste møde føler vi os mere engagerede i teamet",
    ),
    (
        "combining inside",
        "Ja.\nEfter sidste møde føler A\u030ase sig mere engageret i teamet. Tak.",
        "Efter sidste møde føler A\u030ase sig mere engageret i teamet",
    ),
    (
        "crlf",
        "Linje et.\r\nLinje to.\r\nVi har simpelthen ikke tid\r\ntil PDSA-arbejdet på afdelingen.\r\n",
        "Vi har simpelthen ikke tid\ntil PDSA-arbejdet på afdelingen",
    ),
]

#: How each tool writes a selection's name, from the passage.
NAMES = {
    "full (QualCoder)": lambda p: p,
    "first 20 (ATLAS.ti, MAXQDA)": lambda p: p[:20],
    "first 20 and … (preview)": lambda p: p[:20] + "…",
    "first 20 and ... (preview)": lambda p: p[:20] + "...",
    "empty (NVivo, exporters)": lambda p: "",
    "label (code name)": lambda p: "Barrierer for forbedring",
}


def _units(raw: str, lf: str, pos: int, unit: str) -> int:
    """The tool's count for position ``pos`` of the LF text."""
    before = lf[:pos]
    if unit == "code points, CRLF as one":
        return len(before)
    crlfs = raw.count("\r\n") and before.count("\n")
    if unit == "UTF-16":
        return len(before.encode("utf-16-le")) // 2 + crlfs
    if unit == "composed":
        return len(unicodedata.normalize("NFC", before)) + crlfs
    return len(before) + crlfs  # REFI-QDA: code points of the file


#: (drift label, unit the tool counted in, offset added to both positions)
DRIFTS = [
    ("none", "code points", 0),
    ("CRLF as one", "code points, CRLF as one", 0),
    ("UTF-16", "UTF-16", 0),
    ("composed", "composed", 0),
    ("+3", "code points", 3),
    ("-3", "code points", -3),
    ("UTF-16 +3", "UTF-16", 3),
    ("CRLF as one -2", "code points, CRLF as one", -2),
]

CASES = [
    pytest.param(raw, passage, name, unit, offset, id=f"{t}/{n}/{d}")
    for t, raw, passage in TEXTS
    for n, name in NAMES.items()
    for d, unit, offset in DRIFTS
]


@pytest.mark.parametrize("raw,passage,name_of,unit,offset", CASES)
def test_the_quote_is_the_passage_or_the_selection_is_refused(raw, passage, name_of, unit, offset):
    source = SourceText(raw)
    true_start = source.text.index(passage)
    true_end = true_start + len(passage)
    start = _units(raw, source.text, true_start, unit) + offset
    end = _units(raw, source.text, true_end, unit) + offset
    name = name_of(passage)
    evidence = bool(name) and name.rstrip(".…") in source.text
    try:
        anchor = source.anchor(start, end, name)
    except Unanchorable:
        # refused: when the name is evidence the positions could not be placed by (drifted, or
        # only a beginning of a passage whose length the ways of counting read differently), or,
        # with no evidence, when the positions are not inside the text
        wide = any(ord(c) > 0xFFFF or unicodedata.combining(c) or c == "\n" for c in passage)
        drifted = offset or unit != "code points"
        assert (evidence and (drifted or (wide and name != passage))) or end > len(raw)
        return
    got = source.text[anchor.start : anchor.end]
    if evidence:
        assert got == passage, anchor
    else:
        # no words to check (empty, or a label not in the text): the positions as given, by
        # REFI-QDA's count; the passage exactly when the tool counted that way
        assert anchor.how == UNCHECKED
        standard = source._readings[0]
        assert (anchor.start, anchor.end) == (standard.position(start), standard.position(end))
        if unit == "code points" and not offset:
            assert got == passage


@pytest.mark.parametrize("unit", ["code points", "code points, CRLF as one", "UTF-16"])
@pytest.mark.parametrize("t,raw,passage", TEXTS, ids=[t for t, *_ in TEXTS])
def test_a_prefix_name_with_a_drift_of_three_keeps_the_whole_passage(t, raw, passage, unit):
    """The issue: a 20-character name and positions 3 off gave a 20-character quote."""
    source = SourceText(raw)
    true_start = source.text.index(passage)
    start = _units(raw, source.text, true_start, unit) + 3
    end = _units(raw, source.text, true_start + len(passage), unit) + 3
    try:
        anchor = source.anchor(start, end, passage[:20])
    except Unanchorable as refused:
        # only where the ways of counting the length disagree (the passage holds a CRLF, an
        # emoji or a decomposed letter), and never in plain text
        assert t in ("emoji inside", "combining inside", "crlf"), refused
        return
    assert source.text[anchor.start : anchor.end] == passage
    assert anchor.moved


@pytest.mark.parametrize(
    "text,start,end,words,expected",
    [
        # the issue, exactly
        (ISSUE_TEXT, 22, 69, "Registering the indi", ISSUE_PASSAGE),
        # a name as long as the selection is the passage
        ("xx abc def", 0, 3, "abc", "abc"),
        # a name shorter than the selection, not in the text: a label, positions as given
        ("one two three four", 4, 13, "Tidspres", "two three"),
        # a label that happens to begin the selection: as given
        ("Tid er knap. Tid.", 0, 12, "Tid", "Tid er knap."),
    ],
)
def test_anchored_text(text, start, end, words, expected):
    source = SourceText(text)
    anchor = source.anchor(start, end, words)
    assert source.text[anchor.start : anchor.end] == expected


@pytest.mark.parametrize(
    "text,start,end,words,message",
    [
        # the beginning starts two different passages: not guessed
        ("Ja, vi har tid. Ja, det har vi ikke.", 2, 14, "Ja,", "different text in 2 places"),
        # a preview of text that is not in the source: the source changed
        ("one two three four", 4, 13, "Tidspres…", "not in the source text"),
        # a label, and positions outside the text
        ("one two three", 40, 50, "Tidspres", "outside the source text"),
        # the passage would run past the end of the text
        ("xxx abc def", 0, 20, "abc", "runs past the end"),
        # a beginning found far from the positions
        ("abcdefgh " + "z" * 400, 300, 305, "abc", "found only 300 characters away"),
        # the tool's count of the length is ambiguous: an emoji inside, UTF-16 or code points
        ("xx ab😩cdef gh", 0, 7, "ab", "disagree on where it ends"),
        (None, None, None, "x", "not whole numbers"),
    ],
)
def test_refused(text, start, end, words, message):
    with pytest.raises(Unanchorable, match=message):
        SourceText(text or "abc").anchor(start, end, words)


def test_positions_that_match_are_as_given_and_no_name_is_unchecked():
    source = SourceText("abc defghij")
    assert source.anchor(4, 11, "defghij").how == EXACT
    assert source.anchor(4, 11, "de").how == EXACT
    assert source.anchor(4, 11, "").how == UNCHECKED
    label = source.anchor(4, 11, "Kode")
    assert (label.how, label.start, label.end) == (UNCHECKED, 4, 11) and "label" in label.why
    with pytest.raises(Unanchorable, match="not in the source text"):
        source.anchor(4, 7, "Kode")  # as long as the selection: meant as its text


ALPHABET = "ab cæøå\r\n\u030a😩👩\u200d⚕\ufe0f.,"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=150), st.data())
def test_a_prefix_name_gives_the_passage_or_a_refusal(raw, data):
    """Random texts, passages, drift and prefix names: the passage exactly, or refused, or (the one
    thing no importer can see) drifted positions that themselves start with the name."""
    source = SourceText(raw)
    text = source.text
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    passage = text[start:end]
    assume(passage.strip() and not unicodedata.combining(passage[0]))
    assume(end == len(text) or not unicodedata.combining(text[end]))
    cut = data.draw(st.integers(1, len(passage)))
    name = passage[:cut] + data.draw(st.sampled_from(["", "…", "..."]))
    assume(name.strip(" \n.…"))
    drift = data.draw(st.integers(-40, 40).filter(bool))
    # the tool counted code points of the LF text (its numbers are the positions), then drifted
    given_start, given_end = start + drift, end + drift
    assume(given_start >= 0)
    try:
        anchor = source.anchor(given_start, given_end, name)
    except Unanchorable:
        return
    got = text[anchor.start : anchor.end]
    if got != passage:
        # the coincidence: by some way of counting, the drifted positions start with the name
        assert not anchor.moved or anchor.how not in ("nearby", "elsewhere"), (anchor, got)
        by = next(r for r in source._readings if r.how == anchor.how)
        assert (by.position(given_start), by.position(given_end)) == (anchor.start, anchor.end)


# --- end to end: the stored oa:exact -------------------------------------------------------------


def issue_qdpx(path: Path) -> Path:
    """A tool-written project whose selection names its first 20 characters, 3 characters off."""
    E = ElementMaker(namespace=PROJECT_NS, nsmap={None: PROJECT_NS})
    start = ISSUE_TEXT.index(ISSUE_PASSAGE) + 3
    project = E.Project(
        E.Users(E.User(guid=guid("anne"), name="Anne Hansen")),
        E.CodeBook(E.Codes(E.Code(guid=guid("time"), name="Tid", isCodable="true"))),
        E.Sources(
            E.TextSource(
                E.PlainTextContent(ISSUE_TEXT),
                E.PlainTextSelection(
                    E.Coding(E.CodeRef(targetGUID=guid("time")), guid=guid("issue-coding")),
                    guid=guid("issue-sel"),
                    name=ISSUE_PASSAGE[:20],
                    startPosition=str(start),
                    endPosition=str(start + len(ISSUE_PASSAGE)),
                ),
                guid=guid("issue-src"),
                name="Interview 3",
            )
        ),
        name="Drift",
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", etree.tostring(project, xml_declaration=True))
    return path


def test_the_stored_quote_is_the_whole_passage(study_store, tmp_path, cli):  # noqa: F811
    ran = cli("import-qda", str(issue_qdpx(tmp_path / "d.qdpx")), "--study", SID, store=study_store)
    assert ran.exit_code == 0, ran.err
    assert "1 re-anchored" in ran.err and "re-anchored (nearby)" in ran.err
    rows = select(
        study_store,
        """SELECT ?exact WHERE { ?t oa:hasSource/dcterms:title "Interview 3" ;
            oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact ?exact ] }""",
    )
    assert [r["exact"] for r in rows] == [ISSUE_PASSAGE]
