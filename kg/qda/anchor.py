"""Re-anchor coded selections whose positions drifted between QDA tools.

REFI-QDA positions count Unicode code points in a source's plain text, but tools disagree: some
count a CRLF line ending as two characters where others see one, some count UTF-16 code units
(an emoji is then two), and text stored inside the XML has had its CRLFs turned into LF by the
XML parser. Most tools keep the selected words in the selection's ``name`` (sometimes cut short,
ending in "…"). When they are there, the positions are checked against them and, if they miss,
the words are searched for: near the old position first, then anywhere in the source.
Comparisons ignore differences of whitespace (CRLF, non-breaking spaces) and of Unicode
normalisation (a decomposed "å"), so those alone never break a match.

qikg stores positions in the source text with its line endings normalised to LF.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

#: How an anchor was found; all but the first two mean the positions were moved.
EXACT, UNCHECKED = "as given", "unchecked"
ELLIPSES = ("…", "...")


@dataclass(frozen=True)
class Anchor:
    """Where a selection is in the (LF-normalised) source text, and how that was found.

    ``how`` is "as given", "unchecked" (no words to check against), or the reason it moved:
    "line endings", "UTF-16 positions", "nearby" or "elsewhere".
    """

    start: int
    end: int
    how: str

    @property
    def moved(self) -> bool:
        """True when the positions given were wrong and the words were found elsewhere."""
        return self.how not in (EXACT, UNCHECKED)


class Unanchorable(ValueError):
    """A selection whose words cannot be found in its source (the message says why)."""


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


class SourceText:
    """A source's text, ready for anchoring selections in it.

    >>> s = SourceText("Line one\\r\\nSygeplejersker har ikke tid.")
    >>> s.anchor(10, 38, "Sygeplejersker har ikke tid.")
    Anchor(start=9, end=37, how='as given')
    >>> s.anchor(9, 37, "Sygeplejersker har ikke tid.").how
    'line endings'
    """

    def __init__(self, raw: str) -> None:
        self.raw = raw.removeprefix("\ufeff")
        self.text = self.raw.replace("\r\n", "\n").replace("\r", "\n")

    @functools.cached_property
    def _folded(self) -> tuple[str, list[int], list[int]]:
        return fold(self.text)

    @functools.cached_property
    def _raw_to_text(self) -> list[int]:
        """For each position in the raw text (CRLF = 2), the position in the LF text."""
        out, c, i, raw = [], 0, 0, self.raw
        while i < len(raw):
            width = 2 if raw.startswith("\r\n", i) else 1
            out.extend([c] * width)
            i += width
            c += 1
        out.append(c)
        return out

    @functools.cached_property
    def _utf16_to_text(self) -> list[int] | None:
        """For each UTF-16 code unit position, the code point position in the LF text (None
        when the text has no character outside the BMP, so both counts agree)."""
        if all(ord(ch) <= 0xFFFF for ch in self.text):
            return None
        out = []
        for c, ch in enumerate(self.text):
            out.extend([c] * (2 if ord(ch) > 0xFFFF else 1))
        out.append(len(self.text))
        return out

    def _candidates(self, start: int, end: int) -> list[tuple[int, int, str]]:
        """The readings of the given positions, the standard one first."""
        found = []
        if self.raw != self.text:
            r2t = self._raw_to_text
            if 0 <= start <= end < len(r2t):
                found.append((r2t[start], r2t[end], EXACT))
            found.append((start, end, "line endings"))
        else:
            found.append((start, end, EXACT))
        u2t = self._utf16_to_text
        if u2t is not None:
            if 0 <= start <= end < len(u2t):
                found.append((u2t[start], u2t[end], "UTF-16 positions"))
        return found

    def anchor(self, start: int | None, end: int | None, words: str | None) -> Anchor:
        """Where the selection ``start``-``end`` whose text is ``words`` (if known) really is."""
        if start is None or end is None:
            if not words:
                raise Unanchorable("its startPosition and endPosition are not whole numbers")
            start = end = 0
        candidates = self._candidates(start, end)
        expected = _plain(words or "")
        truncated = False
        for mark in ELLIPSES:
            if expected.endswith(mark) and expected[: -len(mark)].strip():
                expected, truncated = expected[: -len(mark)].rstrip(), True
                break
        if not expected:
            s, e, _ = candidates[0]
            if not 0 <= s < e <= len(self.text):
                raise Unanchorable(
                    f"its positions {start}-{end} are outside the source text ({len(self.text)} "
                    "characters), and it has no words (name) to search for"
                )
            if not self.text[s:e].strip():
                raise Unanchorable(f"its positions {start}-{end} select only white space")
            return Anchor(s, e, UNCHECKED)
        for s, e, how in candidates:
            if 0 <= s < e <= len(self.text) and _plain(self.text[s:e]).startswith(expected):
                return Anchor(s, e, how)
        return self._search(expected, truncated, candidates[0][0], candidates[0][1])

    def _search(self, expected: str, truncated: bool, start: int, end: int) -> Anchor:
        folded, starts, ends = self._folded
        n = len(expected)

        def whole(h: int) -> bool:
            """The hit neither starts nor (unless cut short) ends inside a character cluster."""
            inside_start = h > 0 and starts[h] == starts[h - 1]
            last = h + n - 1
            inside_end = last + 1 < len(folded) and ends[last] == ends[last + 1]
            return not inside_start and (truncated or not inside_end)

        hits = []
        at = folded.find(expected)
        while at >= 0:
            if whole(at):
                hits.append(at)
            at = folded.find(expected, at + 1)
        if not hits:
            shown = expected if len(expected) <= 60 else expected[:57] + "..."
            raise Unanchorable(f'its words "{shown}" are not in the source text')
        best = min(hits, key=lambda h: abs(starts[h] - start))
        s, e = starts[best], ends[best + n - 1]
        if truncated:
            e = max(e, min(len(self.text), s + (end - start)))
        near = abs(s - start) <= max(200, 2 * (end - start))
        return Anchor(s, e, "nearby" if near else "elsewhere")

    def context(self, anchor: Anchor, width: int = 32) -> tuple[str, str, str]:
        """The prefix, exact text and suffix of an anchor (``width`` characters either side)."""
        return (
            self.text[max(0, anchor.start - width) : anchor.start],
            self.text[anchor.start : anchor.end],
            self.text[anchor.end : anchor.end + width],
        )
