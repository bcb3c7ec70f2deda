"""Re-anchor coded selections whose positions drifted between QDA tools.

REFI-QDA positions count Unicode code points in a source's plain text, but tools disagree: some
count a CRLF line ending as two characters where others see one, some count UTF-16 code units
(an emoji is then two), some count a decomposed "å" as one, and text stored inside
the XML has had its CRLFs turned into LF by the XML parser. Each of these is a *reading* of the
given numbers; a selection whose words are found where one reading puts it is anchored there.

A selection's ``name`` is evidence, not the quote. Tools write it differently: QualCoder the
whole selected text, others its first 20 or so characters (sometimes ending in "…" or "..."),
others nothing, and some a label (a code or variable name) that is not in the text at all. So:

- Positions whose text starts with the name are used as given, under the reading that puts them
  there; when several readings do and disagree on where the passage ends, only a name that is,
  written whole, exactly the passage in code points settles it (otherwise it is searched for as
  below, and refused if still ambiguous). No name: used as given, "unchecked".
- Otherwise the name is searched for. A name as long as the selection (or longer) is the passage
  itself. A shorter name, or one ending in an ellipsis, only says where the passage starts: the
  passage is then as long as the selection was, counted in the tool's unit. The quote is never cut
  down to the name.
- A selection that cannot be placed exactly is refused (:class:`Unanchorable`), never stored
  altered: its name starts passages of different text in more than one place, the readings of its
  length disagree on where it ends, the passage would run past the end of the text, or a name
  that is only a beginning is found far from where the positions point.
- A name found nowhere in the text: if it is shorter than the selection and not cut short, it is
  taken for a label, and the positions are used as given, "unchecked" (refused when they are not
  inside the text); a name as long as the selection, or one ending in an ellipsis, was meant as
  its text, so the source has changed and the selection is refused.

Comparisons ignore differences of whitespace (CRLF, non-breaking spaces) and of Unicode
normalisation (a decomposed "å"), so those alone never break a match; the stored quote is always
the source's own text between the anchor's positions.

qikg stores positions in the source text with its line endings normalised to LF.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from array import array
from bisect import bisect_right
from dataclasses import dataclass

#: How an anchor was found; all but the first two mean the positions were moved.
EXACT, UNCHECKED = "as given", "unchecked"
NEARBY, ELSEWHERE = "nearby", "elsewhere"
ELLIPSES = ("…", "...")
#: How far, in the tool's units, a passage known only by its first words may be moved (or twice
#: its length, if more): drift from line endings and wide characters grows with the text before a
#: selection, but a beginning found further away is more likely a coincidence than the passage.
NEAR = 200


@dataclass(frozen=True)
class Anchor:
    """Where a selection is in the (LF-normalised) source text, and how that was found.

    ``how`` is "as given", "unchecked" (no words to check against), or the reason it moved: a
    reading of the positions ("line endings", "UTF-16 positions", ...), "nearby" or "elsewhere".
    ``why`` says more when there is more to say (a name taken for a label).
    """

    start: int
    end: int
    how: str
    why: str = ""

    @property
    def moved(self) -> bool:
        """True when the positions given were wrong and the words were found elsewhere."""
        return self.how not in (EXACT, UNCHECKED)


class Unanchorable(ValueError):
    """A selection that cannot be placed exactly in its source (the message says why)."""


def fold(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` with whitespace runs as one space and each character NFC, and for each folded
    character the span of ``text`` it came from.

    >>> fold("a\\r\\n  e\\u0301")[0]
    'a é'
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        if text[i].isspace():
            while j < n and text[j].isspace():
                j += 1
            piece = " "
        else:
            while j < n and unicodedata.combining(text[j]):
                j += 1
            piece = unicodedata.normalize("NFC", text[i:j])
        for ch in piece:
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


def _plain(text: str) -> str:
    return fold(text)[0].strip()


def _shown(words: str) -> str:
    return words if len(words) <= 60 else words[:57] + "..."


@dataclass(frozen=True)
class _Name:
    """A selection's name, as evidence: ``core`` is what is searched for (folded, stripped, no
    ellipsis); ``text`` the name as written (LF line endings), ``truncated`` if it ended in an
    ellipsis."""

    core: str
    text: str
    truncated: bool

    @classmethod
    def parse(cls, words: str | None) -> _Name | None:
        text = (words or "").replace("\r\n", "\n")
        core, truncated = _plain(text), False
        for mark in ELLIPSES:
            if core.endswith(mark) and core[: -len(mark)].strip():
                core, truncated = core[: -len(mark)].rstrip(), True
                text = text.rstrip()[: -len(mark)].rstrip()
                break
        return cls(core, text, truncated) if core else None

    @property
    def lead(self) -> str:
        return self.text[: len(self.text) - len(self.text.lstrip())]

    @property
    def trail(self) -> str:
        return "" if self.truncated else self.text[len(self.text.rstrip()) :]


@dataclass(frozen=True)
class _Reading:
    """One way a tool may have counted: ``units[i]`` is its count for text position ``i``."""

    how: str
    units: array
    #: code points (with either line ending), REFI-QDA's unit
    standard: bool = False

    def position(self, unit: int) -> int | None:
        """The text position the tool's ``unit`` stands for; None inside a character (half a
        CRLF, half an emoji) or outside the text."""
        if unit < 0 or unit > self.units[-1]:
            return None
        i = bisect_right(self.units, unit) - 1
        return i if self.units[i] == unit else None


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    full: bool  # the name is the whole passage (not only its beginning)
    exact: bool  # the passage is the name character for character
    drift: int  # how far the given start is from it, in the nearest reading's units


@dataclass(frozen=True)
class _Hit:
    """A place where a name is found: ``start``-``end`` is the name there, ``by_length`` where a
    passage as long as the selection would end by each way of counting, ``past`` if by every way
    it would run past the end of the text."""

    start: int
    end: int
    exact: bool  # the text there is the name character for character
    exact_lead: bool  # white space the name starts with is there as written
    past: bool
    by_length: frozenset[int]
    drift: int


def _width(ch: str, unit: str) -> int:
    o = ord(ch)
    if unit == "UTF-16":
        return 2 if o > 0xFFFF else 1
    return 1


class SourceText:
    """A source's text, ready for anchoring selections in it.

    >>> s = SourceText("Line one\\r\\nSygeplejersker har ikke tid.")
    >>> s.anchor(10, 38, "Sygeplejersker har ikke tid.")
    Anchor(start=9, end=37, how='as given', why='')
    >>> s.anchor(9, 37, "Sygeplejersker har ikke tid.").how
    'line endings'

    A name that is only the first words keeps the selection's length (here drifted by 3):

    >>> s = SourceText("Intro. Registering the indicators took hours each week. Done.")
    >>> a = s.anchor(10, 57, "Registering the indi")
    >>> a.how, s.text[a.start : a.end]
    ('nearby', 'Registering the indicators took hours each week')

    A beginning that starts different passages is refused, not guessed:

    >>> SourceText("Ja, vi har tid. Ja, det har vi ikke.").anchor(2, 14, "Ja,")
    Traceback (most recent call last):
    ...
    kg.qda.anchor.Unanchorable: its name "Ja," is not at its positions 2-14 and begins passages of different text in 2 places
    """  # noqa: E501

    def __init__(self, raw: str) -> None:
        self.raw = raw.removeprefix("\ufeff")
        self.text = self.raw.replace("\r\n", "\n").replace("\r", "\n")

    @functools.cached_property
    def _folded(self) -> tuple[str, list[int], list[int]]:
        return fold(self.text)

    @functools.cached_property
    def _readings(self) -> list[_Reading]:
        """The ways the tool may have counted, the REFI-QDA one (code points of the file, a CRLF
        as two) first; only those that count this text differently from the ones before."""
        text, raw = self.text, self.raw
        crlf = [False] * len(text)  # which LF of the text was a CRLF in the file
        i = c = 0
        while i < len(raw):
            crlf[c] = raw.startswith("\r\n", i)
            i += 2 if crlf[c] else 1
            c += 1
        clusters, i = [], 0  # (start, end) of each base character with its combining marks
        while i < len(text):
            j = i + 1
            while j < len(text) and unicodedata.combining(text[j]) and not text[i].isspace():
                j += 1
            clusters.append((i, j))
            i = j
        composable = any(
            j - i > 1 and unicodedata.normalize("NFC", text[i:j]) != text[i:j] for i, j in clusters
        )
        units = ["code points"]
        if any(ord(ch) > 0xFFFF for ch in text):
            units.append("UTF-16")
        out: list[_Reading] = []
        for composed, unit, crlf_one in itertools.product(
            (False, True) if composable else (False,),
            units,
            (False, True) if any(crlf) else (False,),
        ):
            widths = [_width(ch, unit) + (crlf[k] and not crlf_one) for k, ch in enumerate(text)]
            if composed:
                for i, j in clusters:
                    if j - i > 1:
                        nfc = unicodedata.normalize("NFC", text[i:j])
                        widths[i:j] = [sum(_width(ch, unit) for ch in nfc)] + [0] * (j - i - 1)
            how = ", ".join(
                ([f"{unit} positions"] if unit != "code points" else [])
                + (["composed characters"] if composed else [])
                + (["line endings"] if crlf_one else [])
            )
            units_at = array("q", itertools.accumulate(widths, initial=0))
            standard = unit == "code points" and not composed
            out.append(_Reading(how or EXACT, units_at, standard))
        return out

    def anchor(self, start: int | None, end: int | None, words: str | None) -> Anchor:
        """Where the selection ``start``-``end`` (in the tool's units) named ``words`` really is.

        Raises :class:`Unanchorable` when it cannot be placed exactly.
        """
        if start is None or end is None:
            raise Unanchorable("its startPosition and endPosition are not whole numbers")
        name = _Name.parse(words)
        if name is None:
            return self._as_given(start, end, "it has no words (name) to search for")
        return self._at_given(name, start, end) or self._search(name, start, end)

    def _at_given(self, name: _Name, start: int, end: int) -> Anchor | None:
        """The selection where a way of counting puts it, if its text starts with the name there
        and the ways that do agree on where it ends (or the name, written whole, is exactly as
        long in code points): a name that is only a beginning cannot tell them apart."""
        # white space counts at the start (a slice starting on a line break is not the passage a
        # name without one names); at the end only when the name is whole
        words = fold(name.text)[0].rstrip()
        fits: dict[tuple[int, int], list[_Reading]] = {}
        for reading in self._readings:
            s, e = reading.position(start), reading.position(end)
            if s is not None and e is not None and s < e:
                if fold(self.text[s:e])[0].startswith(words):
                    fits.setdefault((s, e), []).append(reading)
        if not name.truncated and len(fits) > 1:
            fits = {
                (s, e): readings
                for (s, e), readings in fits.items()
                if fold(self.text[s:e])[0].rstrip() == words and any(r.standard for r in readings)
            }
        if len(fits) != 1:
            return None
        [((s, e), readings)] = fits.items()
        return Anchor(s, e, readings[0].how)

    def _as_given(self, start: int, end: int, why: str, note: str = "") -> Anchor:
        """The positions as given (the REFI-QDA reading), unchecked: ``why`` they cannot be
        checked, for the message when they cannot be used either; ``note`` for the anchor."""
        reading = self._readings[0]
        s, e = reading.position(start), reading.position(end)
        if not 0 <= start < end <= reading.units[-1]:
            raise Unanchorable(
                f"its positions {start}-{end} are outside the source text ({len(self.text)} "
                f"characters), and {why}"
            )
        if s is None or e is None:
            raise Unanchorable(
                f"its positions {start}-{end} fall inside a character (a CRLF line ending), "
                f"and {why}"
            )
        if not self.text[s:e].strip():
            raise Unanchorable(f"its positions {start}-{end} select only white space")
        return Anchor(s, e, UNCHECKED, note)

    def _hits(self, core: str, truncated: bool) -> list[int]:
        """Where ``core`` is in the folded text, neither starting nor (unless cut short) ending
        inside a character cluster."""
        folded, starts, ends = self._folded
        n, hits = len(core), []
        at = folded.find(core)
        while at >= 0:
            inside_start = at > 0 and starts[at] == starts[at - 1]
            last = at + n - 1
            inside_end = last + 1 < len(folded) and ends[last] == ends[last + 1]
            if not inside_start and (truncated or not inside_end):
                hits.append(at)
            at = folded.find(core, at + 1)
        return hits

    def _search(self, name: _Name, start: int, end: int) -> Anchor:
        shown = _shown(name.core + ("…" if name.truncated else ""))
        whole = self._whole(name, end - start)
        places = self._places(name, not whole)
        if not places:
            if name.truncated or len(name.core) >= end - start:
                raise Unanchorable(f'its words "{shown}" are not in the source text')
            why = f'its name "{shown}" is not in the source text (taken for a label)'
            return self._as_given(start, end, why, why)
        found = [self._measure(name, place, start, end) for place in sorted(places)]
        if whole:
            candidates = [_Candidate(f.start, f.end, True, f.exact, f.drift) for f in found]
        else:
            candidates = [c for f in found for c in self._place(name, f, end - start, shown)]
        where = f'its name "{shown}" is not at its positions {start}-{end}'
        if len({self.text[c.start : c.end] for c in candidates}) > 1:
            if not all(c.full for c in candidates):
                starts = len({c.start for c in candidates})
                raise Unanchorable(
                    f"{where} and begins passages of different text in {starts} places"
                    if starts > 1
                    else f"{where}, and the ways of counting its length disagree on where it ends"
                )
            candidates = [c for c in candidates if c.exact]
            if not candidates:
                raise Unanchorable(
                    f"{where}; its words are in {len(places)} places, spaced differently, and in "
                    "none exactly as its name has them"
                )
        best = min(candidates, key=lambda c: (c.drift, c.start))
        near = best.drift <= max(NEAR, 2 * (end - start))
        if not near and not best.full:
            raise Unanchorable(
                f"{where}; it is only the beginning of the passage, and it is found only "
                f"{best.drift} characters away"
            )
        return Anchor(best.start, best.end, NEARBY if near else ELSEWHERE)

    def _whole(self, name: _Name, length: int) -> bool:
        """Whether the name is the whole passage: not cut short, and at least as long as the
        selection in code points (a CRLF as one, which a count of two only lengthens). Other
        counts (UTF-16, composed) may say otherwise; the name's own length in REFI-QDA's unit
        decides, as a name that is only a beginning is cut at a fixed length, not at one that
        happens to equal the selection's. A name that is the whole text but whose tool counted
        more units (UTF-16 emoji, CRLF as two) is then taken as a beginning, and refused where
        the counts disagree on the end."""
        if name.truncated:
            return False
        return len(name.text) >= length  # a CRLF counted as two only lengthens the name

    def _places(self, name: _Name, beginning: bool) -> set[tuple[int, int, bool]]:
        """Where the name is: (start, end, whether white space it starts with is there as
        written). Found folded (white space and normalisation aside) and, for a name that may be
        only a ``beginning``, also as written, since one cut inside a decomposed "å" is found
        only so."""
        _, starts, ends = self._folded
        text, lead, trail = self.text, name.lead, name.trail
        out = set()
        for h in self._hits(name.core, name.truncated or beginning):
            s, e = starts[h], ends[h + len(name.core) - 1]
            exact_lead = not lead or (s >= len(lead) and text[s - len(lead) : s] == lead)
            if lead and exact_lead:
                s -= len(lead)
            if trail and text[e : e + len(trail)] == trail:
                e += len(trail)
            out.add((s, e, exact_lead))
        if beginning:
            at = text.find(name.text)
            while at >= 0:
                out.add((at, at + len(name.text), True))
                at = text.find(name.text, at + 1)
        return out

    def _measure(self, name: _Name, place: tuple[int, int, bool], start: int, end: int) -> _Hit:
        """A place of ``name``, and where a passage as long as the selection ends there."""
        text, length = self.text, end - start
        s, e, exact_lead = place
        # a way of counting by which the passage would run past the end of the text is not the
        # tool's; only when every way does, the passage cannot start here
        past, by_length = False, set()
        for reading in self._readings:
            unit = reading.units[s] + length
            if unit > reading.units[-1]:
                past = True
            elif (p := reading.position(unit)) is not None:
                by_length.add(p)
        past = past and not by_length
        drift = min(abs(r.units[s] - start) for r in self._readings)
        return _Hit(s, e, text[s:e] == name.text, exact_lead, past, frozenset(by_length), drift)

    def _place(self, name: _Name, hit: _Hit, length: int, shown: str) -> list[_Candidate]:
        """The passages a hit of ``name``, only their beginning, can begin, given the selection's
        ``length``: one, or more when the ways of counting disagree. Raises when it can begin
        none."""
        s, e = hit.start, hit.end
        if hit.past:
            raise Unanchorable(
                f'its name "{shown}" is found at {s}, but a passage as long as the selection '
                f"({length}) from there runs past the end of the source text"
            )
        if not hit.exact_lead:
            raise Unanchorable(
                f'its name "{shown}" begins with white space that is not in the source text as '
                "written, so where the passage begins is not known"
            )
        ends_at = sorted(p for p in hit.by_length if p >= e)
        if not ends_at:
            raise Unanchorable(
                f'its name "{shown}" is found at {s}, but a passage as long as the selection '
                f"({length}) cannot end inside a character there"
            )
        return [_Candidate(s, p, False, False, hit.drift) for p in ends_at]

    def context(self, anchor: Anchor, width: int = 32) -> tuple[str, str, str]:
        """The prefix, exact text and suffix of an anchor (``width`` characters either side)."""
        return (
            self.text[max(0, anchor.start - width) : anchor.start],
            self.text[anchor.start : anchor.end],
            self.text[anchor.end : anchor.end + width],
        )
