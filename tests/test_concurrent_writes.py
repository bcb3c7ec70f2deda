"""Writers never race: two imports started together end with both stored, or one refused with a
message, never a silent overwrite. Each race runs as two real ``qikg import`` processes, several
times (the overlap differs from run to run)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.store import open_store
from tests.conftest import REPO
from tests.sheets import finding, study, write_sheet

ROUNDS = 4


def _import_together(store: str, *sheets: Path) -> list[subprocess.CompletedProcess]:
    """Start one ``qikg import`` per sheet at the same moment; wait for all."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kg", "--store", store, "import", str(sheet)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for sheet in sheets
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _findings(store: str, sid: str) -> set[str]:
    with open_store(store) as opened:
        rows = opened.query(
            "SELECT ?id WHERE { ?f qikg:reportedIn ?s ; dcterms:identifier ?id . "
            f'?s dcterms:identifier "{sid}" }}'
        ).column("id")
    return {r for r in rows if r}


@pytest.fixture
def with_study(built_store_path: str, tmp_path: Path) -> str:
    """A copy of the bundled store that also holds the study ``race2025`` with no findings."""
    path = tmp_path / "store"
    shutil.copytree(built_store_path, path)
    sheet = write_sheet(tmp_path / "study.zip", [study(study_id="race2025")], [])
    ran = _import_together(str(path), sheet)[0]
    assert ran.returncode == 0, ran.stderr
    return str(path)


def test_two_imports_into_one_study_both_land(with_study: str, tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        sheets = []
        for side in ("a", "b"):
            rows = [
                finding(study_id="race2025", finding_id=f"R{round_}{side}{n}") for n in range(30)
            ]
            sheets.append(write_sheet(tmp_path / f"{round_}{side}.zip", [], rows))
        ran = _import_together(with_study, *sheets)
        assert [r.returncode for r in ran] == [0, 0], [r.stderr for r in ran]
        stored = _findings(with_study, "race2025")
        for side in ("a", "b"):
            assert {f"R{round_}{side}{n}" for n in range(30)} <= stored, (round_, side)
    assert len(_findings(with_study, "race2025")) == ROUNDS * 60


def test_one_new_study_imported_twice_at_once_is_stored_once(
    built_store_path: str, tmp_path: Path
) -> None:
    for round_ in range(ROUNDS):
        path = tmp_path / f"store{round_}"
        shutil.copytree(built_store_path, path)
        sid = f"twice{round_}"
        sheets = [
            write_sheet(
                tmp_path / f"{round_}{side}.zip",
                [study(study_id=sid, title=f"Version {side} of the same study")],
                [finding(study_id=sid, finding_id=f"F{side}")],
            )
            for side in ("a", "b")
        ]
        ran = _import_together(str(path), *sheets)
        codes = sorted(r.returncode for r in ran)
        assert codes == [0, 1], [r.stderr for r in ran]
        loser = next(r for r in ran if r.returncode == 1)
        assert "already in the graph" in loser.stderr and "Traceback" not in loser.stderr
        winner = "a" if ran[0].returncode == 0 else "b"
        assert _findings(str(path), sid) == {f"F{winner}"}
