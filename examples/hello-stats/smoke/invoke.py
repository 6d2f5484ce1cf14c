"""Invoke the real handler once, in this process, the way Lambda would; print the response.

``python smoke/invoke.py [EVENT_FILE]`` from the app directory (default: smoke/event.json).
Sets ``AWS_LAMBDA_FUNCTION_NAME`` when absent, so the runtime behaves as inside Lambda (the
local secrets file is refused). The last stdout line is ``{"response": ...}``; exit 1 if the
handler raised.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1]


@dataclass
class InvokeContext:
    """The attributes of Lambda's context object that the runtime reads."""

    function_name: str = field(default_factory=lambda: os.environ["AWS_LAMBDA_FUNCTION_NAME"])
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        region = os.environ.get("AWS_REGION", "us-east-1")
        return f"arn:aws:lambda:{region}:123456789012:function:{self.function_name}"


def main(argv: list[str]) -> int:
    os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "hello-stats")
    sys.path.insert(0, str(APP_DIR))
    from app.handler import handler  # noqa: PLC0415 - importable only after the path insert

    event_file = Path(argv[0]) if argv else APP_DIR / "smoke" / "event.json"
    event = json.loads(event_file.read_text())
    context = InvokeContext(aws_request_id=os.environ.get("INVOKE_REQUEST_ID") or str(uuid.uuid4()))
    try:
        response = handler(event, context)
    except Exception as exc:  # reported as Lambda would: type and message, exit 1
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
        return 1
    print(json.dumps({"response": response}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
