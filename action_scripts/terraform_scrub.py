"""Scrubbing secrets out of what a plan printed, before a log, summary or PR comment shows it.

A plan runs the PR's code: a data source or ``file()`` can read this process's environment (and
its parents' through ``/proc/<ppid>/environ``) and print it, reversed or re-encoded so the
runner's masking (exact, per line) misses it. The comment is posted through the API, where no
masking applies at all. So every text that came out of terraform goes through :func:`scrub`:

* values this process knows are secret (``::add-mask::``-ed values, and the environment's
  token, key, secret and password variables), forwards and reversed;
* anything shaped like an AWS access key ID, a GitHub token or a JWT, forwards and reversed;
* any run of 32+ base64/base64url characters that mixes upper case, lower case and digits
  (secret access keys, session tokens, base64 blobs; hex digests and names stay).

This is defence in depth, not the control: text can be encoded past any filter (one character
per line, say). The control is that the plan job holds nothing worth stealing but the read-only
plan role (docs/adr/0009-plan-and-apply-principals.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from action_scripts import runner

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|_KEY(?:_ID)?$", re.I)
_SHAPES = re.compile(
    r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{16}"  # AWS access key IDs
    r"|gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{20,255}"  # GitHub tokens
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs (OIDC tokens)
)
_RUN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
MIN_KNOWN = 8  # shorter "secrets" (e.g. "true") would shred the text


def known_secrets(environ: Mapping[str, str], extra: Iterable[str] = ()) -> set[str]:
    """Values to remove verbatim: masked ones and the environment's secret-named variables."""
    found = {v for k, v in environ.items() if _SECRET_NAME.search(k) and len(v) >= MIN_KNOWN}
    # runner owns the mask registry; reading it here keeps one list of what this process masked.
    found |= {v for v in runner._masked if len(v) >= MIN_KNOWN}
    found |= {v for v in extra if len(v) >= MIN_KNOWN}
    return found


def _looks_secret(run: str) -> bool:
    return (any(c.isupper() for c in run) and any(c.islower() for c in run)
            and any(c.isdigit() for c in run))


def _spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _SHAPES.finditer(text)]
    spans += [m.span() for m in _RUN.finditer(text) if _looks_secret(m.group())]
    return spans


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every secret-shaped run replaced by ``[redacted]``."""
    if not text:
        return text
    for value in sorted(set(secrets), key=len, reverse=True):
        for form in (value, value[::-1]):
            text = text.replace(form, REDACTED)
    size = len(text)
    spans = _spans(text)
    spans += [(size - end, size - start) for start, end in _spans(text[::-1])]
    if not spans:
        return text
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    pieces, last = [], 0
    for start, end in merged:
        pieces += [text[last:start], REDACTED]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
