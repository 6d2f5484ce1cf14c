"""Logs, metrics and traces for a Lambda handler, the Powertools way plus Hoopstat defaults.

``Observability(service=...)`` bundles a Powertools :class:`Logger` (JSON, one object per line,
with the Lambda request id and a correlation id), :class:`Metrics` (CloudWatch Embedded Metric
Format on stdout, which CloudWatch turns into metrics with no API call) and :class:`Tracer`
(X-Ray; inactive outside Lambda). ``@obs.handler`` applies all three decorators in the right
order. What is added on top of Powertools, and why:

* **Redaction** — the logger's formatter masks every secret value the app has read through
  :mod:`hoopstat_runtime.secrets` (see :mod:`hoopstat_runtime.redaction`).
* **Correlation id** — taken from an ``x-correlation-id`` header, a ``correlation_id`` field, or
  else the request id, so one id follows a request across apps without per-app JMESPath.
* **Unhandled errors are logged** once, as JSON with the request id, before Lambda sees them.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping
from typing import IO, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from hoopstat_runtime.redaction import REDACTOR, Redactor

DEFAULT_NAMESPACE = "Hoopstat"
CORRELATION_HEADER = "x-correlation-id"
Handler = TypeVar("Handler", bound=Callable[..., Any])


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with registered secret values masked in the finished line."""

    def __init__(self, *, redactor: Redactor = REDACTOR, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.redact(super().format(record))


def correlation_id(event: object, context: object) -> str | None:
    """The caller's correlation id if it sent one, else this invocation's request id."""
    if isinstance(event, Mapping):
        headers = event.get("headers")
        if isinstance(headers, Mapping):
            for name, value in headers.items():
                if str(name).lower() == CORRELATION_HEADER and value:
                    return str(value)
        found = event.get("correlation_id")
        if isinstance(found, str) and found:
            return found
    request_id = getattr(context, "aws_request_id", None)
    return str(request_id) if request_id else None


class Observability:
    def __init__(
        self,
        *,
        service: str | None = None,
        namespace: str | None = None,
        stream: IO[str] | None = None,
        redactor: Redactor = REDACTOR,
    ) -> None:
        self.service = (
            service or os.environ.get("POWERTOOLS_SERVICE_NAME") or os.environ.get("HOOPSTAT_APP")
            or "hoopstat-app"
        )
        namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        self.logger = Logger(
            service=self.service, stream=stream,
            logger_formatter=RedactingFormatter(redactor=redactor),
        )
        # The library's own log lines (secret refreshes…) get the same JSON shape and masking.
        copy_config_to_registered_loggers(source_logger=self.logger, include={"hoopstat_runtime"})
        self.metrics = Metrics(service=self.service, namespace=namespace)
        self.tracer = Tracer(service=self.service)

    def handler(self, fn: Handler) -> Handler:
        """Decorate a Lambda handler: context + correlation id in logs, EMF flush, X-Ray segment."""

        @functools.wraps(fn)
        def with_correlation(event: Any, context: Any) -> Any:
            found = correlation_id(event, context)
            self.logger.set_correlation_id(found)
            if found:
                self.metrics.add_metadata(key="correlation_id", value=found)
                self.tracer.put_annotation(key="correlation_id", value=found)
            try:
                return fn(event, context)
            except Exception:
                self.logger.exception("unhandled error")
                raise

        logged = self.logger.inject_lambda_context(with_correlation, clear_state=True)
        measured = self.metrics.log_metrics(logged, capture_cold_start_metric=True)
        return cast(Handler, self.tracer.capture_lambda_handler(measured))
