"""Errors a user can meet: each carries one clear line and the CLI exit code."""


class QikgError(Exception):
    """A problem to report in one line; ``exit_code`` 1 is a data problem, 2 bad input or usage."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class BadInput(QikgError):
    """Unreadable or malformed input: a file, a query, an option (exit 2)."""

    exit_code = 2


class DataProblem(QikgError):
    """Readable input whose content is wrong, e.g. a sheet with violations (exit 1)."""

    exit_code = 1


class ReadOnly(BadInput):
    """What a read-only surface refuses: a write (SPARQL Update, LOAD) or a call outside the
    store (SERVICE, an engine's extension functions)."""


class TooLarge(BadInput):
    """Input past a documented size limit (a query's length)."""


class QueryTimeout(QikgError):
    """A query ran past its time limit and was stopped."""

    exit_code = 1


class StoreUnavailable(QikgError):
    """The store cannot be opened: locked by another writer, or a server is down."""

    exit_code = 1


class Conflict(QikgError):
    """The store changed between reading and writing (another write committed first)."""

    exit_code = 1


class QueryTooLarge(QikgError):
    """A query needed more memory than a query may use, and was stopped."""

    exit_code = 1


#: How every surface says that something already in the graph can be replaced.
REPLACE_IT = (
    "to replace it, import with replace (the --replace option; the Replace box in the explorer)"
)
