"""A process-wide set of secret values that must never reach a log line.

Every value :mod:`hoopstat_runtime.secrets` hands out is registered here, and the logger from
:mod:`hoopstat_runtime.observability` replaces each occurrence in its *serialized* output, so the
value is caught wherever it hides: the message, an ``extra`` field, an exception's text or its
traceback. This mirrors what ``::add-mask::`` does for a GitHub Actions log.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

MASK = "***"
# Shorter values would mask ordinary words and numbers in every line; such values are too weak
# to be secrets anyway (the rotation function generates 40 characters).
MIN_LENGTH = 6


class Redactor:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()

    def register(self, value: Any) -> None:
        """Remember ``value`` (a string, bytes, or every string leaf of a JSON-like object)."""
        found = set(_leaves(value))
        forms: set[str] = set()
        for text in found:
            if len(text) < MIN_LENGTH:
                continue
            forms.add(text)
            # The serialized log line holds the JSON-escaped form ("\"", "\\", "\u00e9"...).
            forms.add(json.dumps(text)[1:-1])
            forms.add(json.dumps(text, ensure_ascii=False)[1:-1])
        if forms - self._values:
            with self._lock:
                self._values = self._values | forms

    def redact(self, text: str) -> str:
        # Longest first, so a secret that contains another secret is masked whole.
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def clear(self) -> None:
        with self._lock:
            self._values = frozenset()


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, str):
        yield value
        # A JSON secret fetched as a string still has leaves worth masking on their own.
        if value.lstrip().startswith(("{", "[")):
            try:
                yield from _leaves(json.loads(value))
            except ValueError:
                pass
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


REDACTOR = Redactor()
