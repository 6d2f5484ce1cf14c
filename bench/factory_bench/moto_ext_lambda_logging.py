"""moto extension: Lambda keeps a function's ``LoggingConfig`` (JSON logs, log levels, log group).

moto 5.2 ignores ``LoggingConfig`` on CreateFunction / UpdateFunctionConfiguration and never
returns it, so a function that logs JSON (as the ``lambda-app`` module's do) shows drift on every
``terraform plan``. It also ignores ``TracingConfig`` on update. This stores both and returns
``LoggingConfig`` the way Lambda does: ``Text`` format and the ``/aws/lambda/<name>`` group when
none was set, and for JSON the log levels that were set (``INFO`` each by default).

Loaded by :mod:`factory_bench.moto_server` at start-up (``install()``).
"""

from __future__ import annotations

from typing import Any


def logging_config_as_returned(function_name: str, config: dict[str, Any] | None) -> dict[str, Any]:
    given = dict(config or {})
    returned: dict[str, Any] = {
        "LogFormat": given.get("LogFormat", "Text"),
        "LogGroup": given.get("LogGroup") or f"/aws/lambda/{function_name}",
    }
    if returned["LogFormat"] == "JSON":
        returned["ApplicationLogLevel"] = given.get("ApplicationLogLevel", "INFO")
        returned["SystemLogLevel"] = given.get("SystemLogLevel", "INFO")
    return returned


def install() -> None:
    from moto.awslambda.models import LambdaFunction

    original_init = LambdaFunction.__init__
    original_get = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        spec = kwargs.get("spec", args[1] if len(args) > 1 else {})
        self.logging_config = logging_config_as_returned(
            self.function_name, spec.get("LoggingConfig")
        )

    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, *args, **kwargs)
        config["LoggingConfig"] = getattr(
            self, "logging_config", logging_config_as_returned(self.function_name, None)
        )
        return config

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            self.logging_config = logging_config_as_returned(
                self.function_name, config_updates["LoggingConfig"]
            )
        if "TracingConfig" in config_updates:
            self.tracing_config = config_updates["TracingConfig"]
        result: dict[str, Any] = original_update(self, config_updates)
        return result

    LambdaFunction.__init__ = __init__  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
