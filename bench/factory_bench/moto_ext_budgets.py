"""moto extension: the AWS Budgets calls Terraform's ``aws_budgets_budget`` needs and moto lacks.

moto 5.2 implements budgets and notifications but not ``DescribeSubscribersForNotification``
(the provider reads each notification's subscribers back) nor the tagging calls
(``ListTagsForResource`` on every read, ``TagResource``/``UntagResource`` on tag changes). It
also drops ``CreateBudget``'s ``ResourceTags``. Without them every refresh of a budget answers
500, so ``terraform plan`` fails. This adds the four calls and keeps tags per budget ARN.

Loaded by :mod:`factory_bench.moto_server` at start-up (``install()``).
"""

from __future__ import annotations

import json
from typing import Any

# ARN -> {key: value}. The server is one process, and budgets are account-global, so a module
# level store is the same lifetime as moto's own backend.
_tags: dict[str, dict[str, str]] = {}


def budget_arn(account_id: str, budget_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:budgets::{account_id}:budget/{budget_name}"


def _same_notification(stored: dict[str, Any], asked: dict[str, Any]) -> bool:
    """AWS identifies a notification by type, operator, threshold and threshold type."""
    def key(item: dict[str, Any]) -> tuple[str, str, float, str]:
        return (
            str(item.get("NotificationType", "")),
            str(item.get("ComparisonOperator", "")),
            float(item.get("Threshold", 0)),
            str(item.get("ThresholdType", "PERCENTAGE")),
        )

    return key(stored) == key(asked)


def install() -> None:
    from moto.budgets.exceptions import NotFoundException
    from moto.budgets.responses import BudgetsResponse

    original_create = BudgetsResponse.create_budget
    original_delete = BudgetsResponse.delete_budget

    def create_budget(self: Any) -> str:
        result: str = original_create(self)
        arn = budget_arn(
            self._get_param("AccountId"), self._get_param("Budget")["BudgetName"], self.partition
        )
        tags = self._get_param("ResourceTags") or []
        _tags[arn] = {str(t["Key"]): str(t["Value"]) for t in tags}
        return result

    def delete_budget(self: Any) -> str:
        result: str = original_delete(self)
        _tags.pop(
            budget_arn(self._get_param("AccountId"), self._get_param("BudgetName"), self.partition),
            None,
        )
        return result

    def describe_subscribers_for_notification(self: Any) -> str:
        account_id = self._get_param("AccountId")
        budget_name = self._get_param("BudgetName")
        asked = self._get_param("Notification") or {}
        budgets = self.backend.budgets[account_id]
        if budget_name not in budgets:
            raise NotFoundException(
                f"Unable to get subscribers: {budget_name} - the budget doesn't exist."
            )
        for notification in budgets[budget_name].notifications:
            if _same_notification(notification.details, asked):
                return json.dumps({"Subscribers": notification.subscribers, "NextToken": None})
        raise NotFoundException("Unable to get subscribers - the notification doesn't exist.")

    def _known(arn: str) -> dict[str, str]:
        if arn not in _tags:
            raise NotFoundException(f"Unable to find resource {arn}.")
        return _tags[arn]

    def list_tags_for_resource(self: Any) -> str:
        tags = _known(str(self._get_param("ResourceARN")))
        return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.items()]})

    def tag_resource(self: Any) -> str:
        tags = _known(str(self._get_param("ResourceARN")))
        for tag in self._get_param("ResourceTags") or []:
            tags[str(tag["Key"])] = str(tag["Value"])
        return json.dumps({})

    def untag_resource(self: Any) -> str:
        tags = _known(str(self._get_param("ResourceARN")))
        for key in self._get_param("ResourceTagKeys") or []:
            tags.pop(str(key), None)
        return json.dumps({})

    # moto dispatches an action to the response method of the same name in snake_case.
    handlers = {
        "create_budget": create_budget,
        "delete_budget": delete_budget,
        "describe_subscribers_for_notification": describe_subscribers_for_notification,
        "list_tags_for_resource": list_tags_for_resource,
        "tag_resource": tag_resource,
        "untag_resource": untag_resource,
    }
    for name, handler in handlers.items():
        setattr(BudgetsResponse, name, handler)
