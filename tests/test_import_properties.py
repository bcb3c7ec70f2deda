"""Property-based: any sheet either imports with the right counts or is refused and changes nothing."""

from __future__ import annotations

import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.errors import QikgError
from kg.importer import import_path
from kg.store import open_store
from tests.sheets import finding, study, write_sheet

GOOD_GROUPS = ["nurse", "physician", "doctor", "QI specialist", "pharmacist", "midwife"]
BAD_WORDS = ["nurces", "astronaut", "", "qikg:NoSuchThing"]
GOOD_DIRECTIONS = ["improved", "worsened", "no change", "not measured"]
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=60)


@st.composite
def sheets(draw: st.DrawFn) -> tuple[list[dict], list[dict], bool]:
    """A sheet of 1-4 findings, with a flag saying whether it should import."""
    ok = True
    studies = [study(year=draw(st.sampled_from(["2019", "2025", "1850", "soon"])))]
    ok &= studies[0]["year"] in ("2019", "2025")
    findings = []
    for i in range(draw(st.integers(1, 4))):
        group = draw(st.sampled_from(GOOD_GROUPS + BAD_WORDS))
        statement = draw(
            st.one_of(
                st.just(""),
                st.just("Short."),
                text.map(lambda t, i=i: f"Statement {i}: nurses engaged in improvement work. {t}"),
            )
        )
        ok &= group in GOOD_GROUPS or group == ""
        ok &= statement.startswith("Statement")
        # an outcome needs a direction, and a direction needs an outcome (contract 0.3)
        outcome = draw(st.sampled_from(["engagement", ""]))
        direction = draw(st.sampled_from([*GOOD_DIRECTIONS, "sideways", ""]))
        ok &= (direction in GOOD_DIRECTIONS) if outcome else direction == ""
        findings.append(
            finding(
                finding_id=f"P{i}",
                professional_groups=group,
                statement=statement,
                quote=draw(text),
                outcomes=outcome,
                outcome_direction=direction,
            )
        )
    return studies, findings, ok


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sheet=sheets())
def test_import_succeeds_with_the_right_counts_or_changes_nothing(
    built_store_path, tmp_path_factory, sheet
):
    studies, findings, expected_ok = sheet
    root = tmp_path_factory.mktemp("prop")
    store_path = root / "store"
    shutil.copytree(built_store_path, store_path)
    path = write_sheet(root / "sheet.xlsx", studies=studies, findings=findings)
    with open_store(str(store_path)) as store:
        before = store.graph_sizes()
        try:
            result = import_path(store, path)
        except QikgError as exc:
            assert store.graph_sizes() == before
            report = getattr(exc, "report", None)
            assert report is not None and not report.conforms
            assert not expected_ok, report.to_text()
            return
        count = store.query(
            "SELECT (COUNT(?f) AS ?n) WHERE { ?f qikg:reportedIn qikgd:newstudy2025 }"
        ).values()[0]["n"]
    assert expected_ok, result.report.to_text()
    assert int(count) == len(findings) == result.findings
