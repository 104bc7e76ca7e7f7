"""The project's one error root: a code, a detail and the list of problems.

Errors carry no HTTP status; ``api/`` maps each code to a status with one
table. ``problems`` lists every field problem at once, so an applicant fixes
a form in one pass (DOMAIN.md §4: an exhaustive list of refusal reasons).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class QoltanbaError(Exception):
    code: str
    detail: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.problems:
            return self.detail
        return self.detail + ": " + "; ".join(f"{p.field}: {p.message}" for p in self.problems)


class InvalidInput(QoltanbaError):
    def __init__(self, detail: str, problems: list[Problem] | None = None) -> None:
        super().__init__("invalid-input", detail, problems or [])


class NotFound(QoltanbaError):
    def __init__(self, detail: str) -> None:
        super().__init__("not-found", detail, [])


class ConflictError(QoltanbaError):
    def __init__(self, detail: str, problems: list[Problem] | None = None) -> None:
        super().__init__("conflict", detail, problems or [])


class Refused(QoltanbaError):
    """An application or request refused for enumerated reasons."""

    def __init__(self, detail: str, problems: list[Problem]) -> None:
        super().__init__("refused", detail, problems)


class NotInitialised(QoltanbaError):
    def __init__(self, detail: str = "the certification-centre hierarchy is not initialised; run `qoltanba init`") -> None:
        super().__init__("not-initialised", detail, [])


def collect(problems: list[Problem], detail: str) -> None:
    """Raise InvalidInput listing every problem, if there are any."""
    if problems:
        raise InvalidInput(detail, problems)


class NotPermitted(QoltanbaError):
    """The actor's role does not allow this action (e.g. revoking a CA certificate)."""

    def __init__(self, detail: str) -> None:
        super().__init__("forbidden", detail, [])
