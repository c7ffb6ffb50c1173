"""One exception tree for vigil, kept shallow.

* VigilError                 -- root; ``exit_code`` is what the CLI returns
  + InputError               -- a file or record we were asked to read is unusable (exit 3)
    - UnknownFormatError     -- no adapter recognises the content (exit 4)
  + ConfigError              -- settings, mapping or policy documents are invalid (exit 5)
  + StoreError               -- the DuckDB store cannot be opened or migrated (exit 6)
  + QueryError               -- a hunting query cannot be translated or run (exit 7)
    - RefusedQuery           -- a hunt / read-only SQL that would write, attach, read files or change
                                settings: refused before or while it runs (exit 2, HTTP 400)
  + AuthError                -- a token or credential was rejected (exit 8)
  + ConnectorError           -- a log API could not be read (exit 9)

The CLI prints ``str(error)`` on one line and exits with ``exit_code``; the API layer maps
these to HTTP statuses. Messages always name the file, field or JSON path at fault.
"""
from __future__ import annotations


class VigilError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class InputError(VigilError):
    exit_code = 3


class UnknownFormatError(InputError):
    exit_code = 4


class ConfigError(VigilError):
    exit_code = 5


class StoreError(VigilError):
    exit_code = 6


class PortabilityError(StoreError):
    """A statement the Spark engine cannot run as written (names the statement and why)."""


class QueryError(VigilError):
    exit_code = 7


class RefusedQuery(QueryError):
    # a usage error: the command is not one hunting allows (docs/hunting.md, "Hunting is read-only")
    exit_code = 2


class AuthError(VigilError):
    exit_code = 8


class ConnectorError(VigilError):
    exit_code = 9
