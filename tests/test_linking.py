"""Cross-study linking on a small fixture with known answers: related findings and the matrix."""

import json

import pytest

from kg.errors import BadInput
from kg.read.compare import compare, findings_for
from kg.read.related import related
from kg.store import open_store
from tests.sheets import finding, study, write_sheet

A = study(study_id="alpha2025", title="Alpha: nurses in improvement teams")
B = study(study_id="beta2025", title="Beta: resources for improvement", doi="10.1234/qikg.test.2")


@pytest.fixture(scope="module")
def linked_store(built_store_path, tmp_path_factory):
    """The bundled store plus two small studies written only from the documented sheet format."""
    import shutil

    from kg.importer import import_path

    root = tmp_path_factory.mktemp("linked")
    shutil.copytree(built_store_path, root / "store")
    findings = [
        finding(
            study_id="alpha2025",
            finding_id="F1",
            professional_groups="nurse",
            enablers="participation of QI specialists",
            barriers="lack of time",
            roles="",
            qic_components="",
            outcomes="",
            outcome_direction="",
        ),
        finding(
            study_id="beta2025",
            finding_id="F1",
            professional_groups="",
            enablers="Available Resources",
            barriers="",
            roles="",
            qic_components="",
            outcomes="",
            outcome_direction="",
            statement="Funding and staff for improvement work made QIC participation possible.",
        ),
    ]
    with open_store(str(root / "store")) as store:
        import_path(store, write_sheet(root / "sheet.xlsx", studies=[A, B], findings=findings))
    return str(root / "store")


def test_related_finds_the_seed_paper_by_a_shared_enabler(linked_store):
    with open_store(linked_store) as store:
        found = {f"{r.study}/{r.finding_id}": r for r in related(store, "alpha2025/F1", limit=1000)}
    seed = found["carstensen2024/F7"]
    assert "participation of QI specialists" in seed.shared
    assert seed.score >= 1.0


def test_related_follows_the_cfir_alignment(linked_store):
    with open_store(linked_store) as store:
        found = {f"{r.study}/{r.finding_id}": r for r in related(store, "alpha2025/F1", limit=1000)}
    assert found["beta2025/F1"].shared == ["Available Resources"]
    assert found["beta2025/F1"].score == 0.5  # reached through lack of time's alignment


def test_related_is_hierarchy_aware(linked_store):
    with open_store(linked_store) as store:
        found = related(store, "alpha2025/F1", limit=1000)  # the bundle ranks many above it
    via_broader = [r for r in found if "health professional" in r.shared]
    assert via_broader, "a finding coded nurse should meet findings coded health professional"


def test_related_never_returns_the_same_study_and_ranks_by_score(linked_store):
    with open_store(linked_store) as store:
        found = related(store, "carstensen2024/F7")
    assert found, "carstensen2024/F7 should have related findings in other studies"
    assert all(r.study != "carstensen2024" for r in found)
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)


def test_min_shared_filters(linked_store):
    with open_store(linked_store) as store:
        found = related(store, "alpha2025/F1", min_shared=2)
    assert found, "alpha2025/F1 should share two concepts with some finding"
    assert all(len(r.shared) >= 2 for r in found)


def test_related_unknown_finding(linked_store):
    with open_store(linked_store) as store, pytest.raises(BadInput, match="no finding"):
        related(store, "alpha2025/F99")
    with pytest.raises(BadInput, match="study_id/finding_id"):
        related(None, "justtext")  # type: ignore[arg-type]


def test_compare_counts_findings_per_study_and_concept(linked_store):
    with open_store(linked_store) as store:
        matrix = compare(store, "enablers")
        cfir = compare(store, "cfir")
        cell = findings_for(
            store, "alpha2025", "cfir", "https://w3id.org/qikg/cfir#AvailableResources"
        )
    rows = {r["study"]: r for r in matrix.rows()}
    assert rows["alpha2025"]["participation of QI specialists"] == 1
    assert rows["carstensen2024"]["participation of QI specialists"] == 1
    cfir_rows = {r["study"]: r for r in cfir.rows()}
    assert cfir_rows["alpha2025"]["Available Resources"] == 1  # via lack of time
    assert cfir_rows["beta2025"]["Available Resources"] == 1  # coded directly
    assert [c["fid"] for c in cell] == ["F1"]


def test_compare_and_related_from_the_cli(cli, linked_store):
    ran = cli("compare", "--cols", "cfir", "--format", "json", store=linked_store)
    assert ran.exit_code == 0, ran.err
    assert any(r["study"] == "beta2025" for r in json.loads(ran.out)["rows"])
    csv_out = cli(
        "compare", "--cols", "professional_groups", "--format", "csv", store=linked_store
    ).out
    assert csv_out.splitlines()[0].startswith("study,")
    table = cli("compare", store=linked_store)
    assert table.exit_code == 0 and "alpha2025" in table.out
    ran = cli("related", "alpha2025/F1", store=linked_store)
    assert ran.exit_code == 0 and "carstensen2024/F7" in ran.out
    assert cli("related", "nope", store=linked_store).exit_code == 2


def test_compare_unknown_columns(linked_store):
    with open_store(linked_store) as store, pytest.raises(BadInput, match="unknown columns"):
        compare(store, "astronauts")
