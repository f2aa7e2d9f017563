"""What grading a submission comes to: plain data, no behaviour beyond sums.

A leaf module (it imports nothing from the course), so that every part of
grading can share these types without importing each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CellScore", "Outcome", "Status"]


class Status(StrEnum):
    """How a submission ended."""

    GRADED = "graded"
    MANUAL = "needs manual grading"
    MISSING = "missing"
    INVALID = "not graded"  # a folder that is not a student's submission of a lesson


@dataclass(frozen=True)
class CellScore:
    """One graded test cell's result.

    ``score`` is None while the cell waits for manual grading. ``message``
    is what the student is told when it failed (their own terms, no hidden
    test code); ``hidden`` says a hidden check failed.
    """

    score: float | None
    points: float
    message: str = ""
    hidden: bool = False

    @property
    def full(self) -> bool:
        return self.score is not None and self.score >= self.points


@dataclass
class Outcome:
    """What grading one submission (a lesson of a student) came to.

    ``reasons`` say why it needs attention (for the triage list); ``flags``
    are answers that touch the kernel or the grader (for review, not a
    penalty in themselves); ``unanswered`` are exercises left as given.
    """

    student: str
    lesson: str
    status: Status = Status.GRADED
    reasons: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    cells: dict[str, CellScore] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float | None:
        """The total, or None while any cell waits for manual grading."""
        scores = [c.score for c in self.cells.values()]
        if any(s is None for s in scores):
            return None
        return sum(s for s in scores if s is not None)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cells.values())

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons + self.flags)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        cells = {k: CellScore(**v) for k, v in data.get("cells", {}).items()}
        return cls(
            student=data["student"],
            lesson=data["lesson"],
            status=Status(data.get("status", Status.GRADED)),
            reasons=list(data.get("reasons", [])),
            flags=list(data.get("flags", [])),
            cells=cells,
            unanswered=list(data.get("unanswered", [])),
            seconds=float(data.get("seconds", 0.0)),
        )
