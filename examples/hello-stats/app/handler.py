"""Lambda handler: read a raw box score from S3, write signed per-team totals back to S3.

Event: ``{"game_id": "0022300061", "date": "2024-03-15", "source": "nba-api"}`` (source optional).
Environment (set by Terraform): ``HOOPSTAT_DATA_BUCKET``,
``HOOPSTAT_APP`` (``hello-stats``),
``HELLO_STATS_SECRET_NAME`` (a JSON secret with ``signing_key``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from hoopstat_runtime import DataStore, Observability, get_secret

obs = Observability()
_GAME_ID = re.compile(r"^[0-9A-Za-z-]{1,40}$")
_store: DataStore | None = None


def store() -> DataStore:
    # Created on first use and kept: one client per execution environment, reused across calls.
    global _store  # noqa: PLW0603
    if _store is None:
        _store = DataStore.from_env()
    return _store


def parse_event(event: Any) -> tuple[str, dt.date, str]:
    if not isinstance(event, dict):
        raise ValueError("event must be a JSON object")
    game_id = str(event.get("game_id", ""))
    if not _GAME_ID.fullmatch(game_id):
        raise ValueError("game_id must be 1-40 letters, digits or '-'")
    try:
        day = dt.date.fromisoformat(str(event.get("date", "")))
    except ValueError:
        raise ValueError("date must be YYYY-MM-DD") from None
    return game_id, day, str(event.get("source") or "nba-api")


def team_totals(box_score: dict[str, Any]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for player in box_score.get("players", []):
        team = totals.setdefault(str(player["team"]), {"pts": 0, "reb": 0, "ast": 0, "players": 0})
        for stat in ("pts", "reb", "ast"):
            team[stat] += int(player.get(stat, 0))
        team["players"] += 1
    return totals


@obs.handler
def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        game_id, day, source = parse_event(event)
    except ValueError as exc:
        obs.logger.warning("bad event", extra={"error": str(exc)})
        return {"statusCode": 400, "error": str(exc)}

    secret_name = os.environ["HELLO_STATS_SECRET_NAME"]
    signing_key = get_secret(secret_name, as_json=True)["signing_key"]
    raw = store().read_raw(source=source, dataset="box-scores", day=day, name=f"{game_id}.json")
    totals = team_totals(raw.json())
    data = {"game_id": game_id, "date": day.isoformat(), "teams": totals,
            "source": {"key": raw.key, "sha256": raw.sha256}}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    # Consumers holding the same secret can check the totals came from this app, unaltered.
    signature = hmac.new(signing_key.encode(), canonical, hashlib.sha256).hexdigest()
    written = store().write_processed(
        dataset="team-totals", day=day, name=f"{game_id}.json",
        body=json.dumps({"data": data, "hmac_sha256": signature}).encode(),
    )
    obs.metrics.add_metric(name="GamesProcessed", unit=MetricUnit.Count, value=1)
    obs.metrics.add_metric(name="TeamsProcessed", unit=MetricUnit.Count, value=len(totals))
    obs.logger.info("wrote team totals", extra={"key": written.key, "teams": len(totals)})
    return {"statusCode": 200, "key": written.key, "sha256": written.sha256, "teams": len(totals)}
