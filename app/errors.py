"""Errors shared across app modules, kept in a leaf module so that whoever raises them
(the command line, the prepare command) does not import the command line itself."""
from __future__ import annotations


class CliError(Exception):
    """A problem the user can fix; `code` is the exit status (2: bad arguments, 1: other)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code
