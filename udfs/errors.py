"""The one failure type the executor kernels raise for bad or unreachable items."""
from __future__ import annotations


class ItemError(Exception):
    """A per-item failure that becomes an `error` row: a short `reason` code and a message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason, message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"
