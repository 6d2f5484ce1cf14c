"""Links into the AWS console for summaries and deployment records (nothing here calls AWS)."""

from __future__ import annotations

from urllib.parse import quote


def _base(region: str) -> str:
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"https://{region}.console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def function_url(*, region: str, function: str) -> str:
    name = function.rsplit(":function:", 1)[-1].split(":", 1)[0]
    return f"{_base(region)}/lambda/home?region={region}#/functions/{quote(name, safe='')}"


def alias_url(*, region: str, function: str, alias: str) -> str:
    return f"{function_url(region=region, function=function)}/aliases/{quote(alias, safe='')}"


def log_group_url(*, region: str, log_group: str) -> str:
    # The console's fragment escapes "/" in a log group name as "$252F".
    escaped = quote(log_group, safe="").replace("%", "$25")
    return f"{_base(region)}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{escaped}"


def alarm_url(*, region: str, alarm: str) -> str:
    return f"{_base(region)}/cloudwatch/home?region={region}#alarmsV2:alarm/{quote(alarm, safe='')}"


def ecr_image_url(*, region: str, account: str, repository: str, digest: str) -> str:
    return (f"{_base(region)}/ecr/repositories/private/{account}/{quote(repository, safe='')}"
            f"/_/image/sha256:{digest}/details?region={region}")
