"""Qualitative evidence synthesis: review findings, their GRADE-CERQual assessments, and outputs.

``model`` holds the IRIs and sheet columns; ``sheet`` turns a ``reviews`` sheet into RDF for the
all-or-nothing import; ``reviews`` reads review findings back; ``suggest`` proposes candidate
review findings; ``soqf`` writes the Summary of Qualitative Findings and Evidence Profile;
``nanopub`` exports a review finding as a nanopublication (docs/synthesis.md).
"""
