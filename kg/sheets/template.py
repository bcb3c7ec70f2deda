"""The empty coding-sheet template: headers, one filled example row, and the allowed labels."""

from __future__ import annotations

from pathlib import Path

from kg.sheets import CONCEPT_COLUMNS, FINDING_COLUMNS, STUDY_COLUMNS
from kg.sheets.write import write_tables
from kg.synthesis.model import REVIEW_COLUMNS
from kg.vocabulary import Vocabulary

EXAMPLE_STUDY = {
    "study_id": "example2025",
    "title": "An example study title (replace this row with your study)",
    "authors": "Surname A; Surname B",
    "year": "2025",
    "doi": "10.1234/example.5678",
    "journal": "J Example 1(2):3-4",
    "country": "Denmark",
    "design": "primary qualitative",
    "design_note": "Interview study with reflexive thematic analysis",
    "qic": "Danish Healthcare Quality Programme – Learning and Quality Teams (LKT)",
    "clinical_area": "stroke",
    "participants": "20 nurses and physicians",
    "sample_size": "20",
    "source_url": "https://doi.org/10.1234/example.5678",
    "source_licence": "CC BY 4.0",
}
EXAMPLE_FINDING = {
    "finding_id": "F1",
    "study_id": "example2025",
    "statement": "Replace with what the study found, in one or two sentences of your own.",
    "finding_kind": "participants' account",
    "theme": "Engagement",
    "professional_groups": "nurse; physician",
    "roles": "QI team member",
    "qic_components": "learning session; PDSA cycle",
    "enablers": "participation of QI specialists",
    "barriers": "lack of time",
    "outcomes": "engagement",
    "outcome_direction": "improved",
    "concepts": "project of professionalisation",
    "quote": "A short verbatim quote from the source.",
    "quote_source": "Results, p. 5",
    "coder": "Your Name",
    "coder_orcid": "",
    "coded_on": "2025-01-31",
}
EXAMPLE_REVIEW = {
    "review_finding_id": "RF1",
    "review": "example-review",
    "statement": "Replace with the review finding: what the supporting findings say together.",
    "supporting_findings": "example2025/F1",
    "explanation": "How the finding was synthesised (optional).",
    "methodological_limitations": "moderate concerns",
    "methodological_limitations_explanation": "Why, e.g. coded from the abstract only.",
    "coherence": "no or very minor concerns",
    "coherence_explanation": "Why.",
    "adequacy": "serious concerns",
    "adequacy_explanation": "Why, e.g. one finding from one study.",
    "relevance": "minor concerns",
    "relevance_explanation": "Why.",
    "confidence": "low",
    "confidence_explanation": "Which components lowered confidence, and why.",
    "assessor": "Your Name",
    "assessed_on": "2025-02-28",
}


#: The columns whose allowed labels the vocabulary sheet lists.
LISTED = ["design", "finding_kind", *CONCEPT_COLUMNS, "outcome_direction"]


def write_template(path: Path, vocab: Vocabulary) -> None:
    """Write the template workbook (or CSV folder/zip) with a ``vocabulary`` sheet."""
    columns = [*LISTED, "confidence", "concern levels"]
    lists = {c: vocab.labels_for(c) for c in LISTED}
    lists["confidence"] = ["high", "moderate", "low", "very low"]
    lists["concern levels"] = [
        "no or very minor concerns",
        "minor concerns",
        "moderate concerns",
        "serious concerns",
    ]
    depth = max(len(v) for v in lists.values())
    vocabulary = [
        {c: (lists[c][i] if i < len(lists[c]) else "") for c in columns} for i in range(depth)
    ]
    write_tables(
        {
            "studies": (STUDY_COLUMNS, [EXAMPLE_STUDY]),
            "findings": (FINDING_COLUMNS, [EXAMPLE_FINDING]),
            "reviews": (REVIEW_COLUMNS, [EXAMPLE_REVIEW]),
            "vocabulary": (columns, vocabulary),
        },
        path,
    )
