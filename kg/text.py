"""How qikg orders ids and names studies, the same in every report, page and sheet."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """A sort key that puts F2 before F10.

    >>> sorted(["s/F10", "s/F2", "s/F1"], key=natural_key)
    ['s/F1', 's/F2', 's/F10']
    """
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(text))


def citation(authors: str | None, year: object) -> str:
    """A short citation from ``"Surname A; Surname B"`` and a year ("" without authors).

    >>> citation("Carstensen K; Goldman J", 2024), citation("Nadeem E", "2013"), citation("", 2020)
    ('Carstensen et al. 2024', 'Nadeem 2013', '')
    """
    first = (authors or "").split(";")[0].strip().split(" ")[0]
    many = " et al." if ";" in (authors or "") else ""
    return f"{first}{many} {year or ''}".strip() if first else ""


def slug(text: str) -> str:
    """A lower-case IRI-safe key for a name.

    >>> slug("Danish LKT – Learning & Quality Teams")
    'danish-lkt-learning-quality-teams'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "unnamed"


def orcid_iri(text: str) -> str:
    """The ``https://orcid.org/`` IRI of an ORCID iD written bare or as a URL, else ValueError
    (four groups of four digits, the last character a digit or X, with a valid check digit).

    >>> orcid_iri("0000-0002-4999-1314"), orcid_iri("https://orcid.org/0000-0002-1694-233X")
    ('https://orcid.org/0000-0002-4999-1314', 'https://orcid.org/0000-0002-1694-233X')
    >>> orcid_iri("0000-0002-4999-1315")
    Traceback (most recent call last):
    ...
    ValueError: "0000-0002-4999-1315" is not an ORCID iD: its check digit is wrong (a typo?)
    """
    bare = text.strip()
    for prefix in ("https://orcid.org/", "http://orcid.org/", "orcid.org/"):
        bare = bare.removeprefix(prefix)
    groups = bare.split("-")
    chars = "".join(groups)
    shaped = len(groups) == 4 and all(len(g) == 4 for g in groups)
    if not shaped or not chars[:-1].isdigit() or not (chars[-1].isdigit() or chars[-1] == "X"):
        raise ValueError(f'"{text}" is not an ORCID iD (it looks like 0000-0002-1825-0097)')
    total = 0
    for digit in chars[:-1]:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    if chars[-1] != ("X" if check == 10 else str(check)):
        raise ValueError(f'"{text}" is not an ORCID iD: its check digit is wrong (a typo?)')
    return f"https://orcid.org/{bare}"
