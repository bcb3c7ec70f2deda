"""The SHACL report of an import or a dry run, as every page that imports shows it.

One place, so the Validate & import page and the Synthesis page's review-finding writer show
the same report, violations first, in the same words.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kg.text import natural_key
from kg.validate import Report

#: The order problems are listed in: what blocks the import first.
SEVERITY = {"violation": 0, "warning": 1, "info": 2}
#: Up to this many problems, the table shows every message whole (wrapped); beyond, a
#: scrollable grid (whose cells show a message's start, and the whole of it on hover).
WHOLE = 60


def problems_frame(report: Report) -> pd.DataFrame:
    """The report as a table, violations first, then by where in the file: severity, where,
    which finding or study, and what."""
    problems = sorted(
        report.problems,
        key=lambda p: (SEVERITY.get(p.severity, 3), natural_key(p.source or ""), p.message),
    )
    return pd.DataFrame(
        {
            "severity": [p.severity for p in problems],
            "where": [p.source or "" for p in problems],
            "finding or study": [p.finding or p.study or "" for p in problems],
            "message": [p.message for p in problems],
        }
    )


def show_report(report: Report) -> None:
    """The summary line, coloured by outcome, and the problems table."""
    summary = report.summary()
    if not report.conforms:
        st.error(
            f"Nothing can be imported: {summary}. Fix the violations and upload again.",
            icon=":material/block:",
        )
    elif report.problems:
        st.warning(
            f"Ready to import: {summary} (warnings and notes do not block an import).",
            icon=":material/check_circle:",
        )
    else:
        st.success(f"Ready to import: {summary}.", icon=":material/check_circle:")
    if not report.problems:
        return
    frame = problems_frame(report)
    if len(frame) <= WHOLE:
        st.table(frame.set_index("severity"))
    else:
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_config={"message": st.column_config.TextColumn(width="large")},
        )
