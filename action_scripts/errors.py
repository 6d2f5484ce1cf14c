"""The few error types the actions raise, each mapped to a ``failure-reason`` output.

Scripts raise these; :func:`action_scripts.runner.run_action` turns them into an
``::error`` annotation, a "what happened / how to fix" step summary, the
``failure-reason`` output and exit code 1.
"""

from __future__ import annotations

from typing import Literal

# The fixed set of ``failure-reason`` values. Workflows may branch on them, so they are an API:
# add to the set, never rename.
FailureReason = Literal[
    "invalid-input",
    "id-token-unavailable",
    "access-denied",
    "invalid-identity-token",
    "account-not-allowed",
    "aws-error",
    "internal-error",
    "plan-changed",
    "state-locked",
    "destroy-blocked",
    "apply-failed",
    "validate-failed",
    "init-failed",
    "plan-failed",
    "drift-detected",
    "plan-not-reviewed",
    "github-error",
    "terraform-unavailable",
    "repository-not-found",
    "tag-conflict",
    "build-failed",
    "push-failed",
    "scan-findings",
    "scan-timeout",
    "scan-failed",
    "concurrent-deployment",
    "resource-not-found",
    "image-not-found",
    "update-failed",
    "timeout",
    "smoke-test-failed",
    "alarm-triggered",
    "image-tag-failed",
    "aws-unreachable",
    "architecture-mismatch",
]


class FactoryError(Exception):
    """A failure the user can act on: what happened, and how to fix it."""

    reason: FailureReason = "aws-error"

    def __init__(
        self,
        message: str,
        *,
        title: str,
        fix: str,
        reason: FailureReason | None = None,
        details: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.title = title
        self.fix = fix
        self.details = details
        if reason is not None:
            self.reason = reason


class InputError(FactoryError):
    """One or more inputs are malformed; raised before any AWS call, so nothing changed."""

    reason: FailureReason = "invalid-input"

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        lines = [f"`{p.name}`: {p.message} Expected {p.expected}." for p in problems]
        super().__init__(
            "; ".join(f"{p.name}: {p.message}" for p in problems),
            title="Invalid input" if len(problems) == 1 else f"{len(problems)} invalid inputs",
            fix="\n".join(f"- {line}" for line in lines),
        )


class InputProblem:
    """One bad input: its name, what is wrong, and the form it must take."""

    __slots__ = ("expected", "message", "name")

    def __init__(self, name: str, message: str, expected: str) -> None:
        self.name = name
        self.message = message
        self.expected = expected

    def __repr__(self) -> str:
        return f"InputProblem({self.name!r}, {self.message!r})"
