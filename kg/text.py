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
