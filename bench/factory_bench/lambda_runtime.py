"""The bench's Lambda runtime: call one handler once, the way Lambda's Python runtime does.

Run by the local invoke hook (:mod:`factory_bench.moto_ext_lambda_bench_invoke`) in a
fresh process: ``python -I -S lambda_runtime.py --task-root DIR [--path DEPS] --handler
module.function --result FILE`` with the event on stdin, on the image's Python (standard library
only: this file imports nothing else), or ``-m factory_bench.lambda_runtime`` for an image that
names no Python. The handler's own output goes to
stdout/stderr (the function's log); the result — or Lambda's error shape
``{"errorMessage", "errorType", "stackTrace"}`` — goes to FILE, so logs can never corrupt it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any


class Context:
    """The attributes of Lambda's context object."""

    def __init__(self, *, request_id: str, timeout_seconds: int) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        region = os.environ.get("AWS_REGION", "us-east-1")
        account = os.environ.get("HOOPSTAT_BENCH_ACCOUNT", "123456789012")
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{account}:function:{self.function_name}"
        )
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-root", type=Path, required=True)
    parser.add_argument("--handler", required=True, help="module.function")
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--request-id", default=None)
    parser.add_argument("--timeout", type=int, default=3)
    parser.add_argument("--path", type=Path, action="append", default=[],
                        help="searched after the task root (the image's installed requirements)")
    args = parser.parse_args(argv)
    sys.path[0:0] = [str(args.task_root), *map(str, args.path)]
    os.chdir(args.task_root)
    result: Any
    try:
        module_name, _, function_name = args.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), function_name)
        event = json.loads(sys.stdin.read() or "{}")
        context = Context(
            request_id=args.request_id or str(uuid.uuid4()), timeout_seconds=args.timeout
        )
        result = {"ok": True, "payload": handler(event, context)}
    except Exception as exc:
        frames = traceback.format_tb(exc.__traceback__)
        result = {
            "ok": False,
            "payload": {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "stackTrace": [line.rstrip() for line in frames],
            },
        }
        traceback.print_exc()
    args.result.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
