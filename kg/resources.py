"""Where the bundled ontology, shapes and coded studies live (repo checkout or installed wheel)."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPO = _PACKAGE.parent


def _resource(name: str) -> Path:
    in_repo = _REPO / name
    if (_REPO / "pyproject.toml").exists() and in_repo.is_dir():
        return in_repo
    return _PACKAGE / "_resources" / name


def ontology_dir() -> Path:
    """The folder of ontology modules (``*.ttl``) and QC checks."""
    return _resource("ontology")


def shapes_dir() -> Path:
    """The folder of SHACL shapes (``*.ttl``)."""
    return _resource("shapes")


def data_dir() -> Path:
    """The folder of bundled coded studies (one coding-sheet folder each under ``studies/``)."""
    return _resource("data")


def queries_dir() -> Path:
    """The competency questions (``*.rq``) shipped with the ontology."""
    return ontology_dir() / "queries"


def app_path() -> Path:
    """The Streamlit explorer's entry script."""
    in_repo = _REPO / "app.py"
    return in_repo if in_repo.exists() else _PACKAGE / "_resources" / "app.py"
