"""The bench's moto extensions for Terraform: budgets subscribers and tags, S3 replication rules
returned as put, and Lambda's LoggingConfig kept (each closes a gap that made plans drift or fail).
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from factory_bench.stack import BENCH_ACCOUNT, Bench


def test_budget_subscribers_and_tags(bench: Bench) -> None:
    """DescribeSubscribersForNotification and the tagging calls answer as AWS Budgets does."""
    budgets = bench.admin_client("budgets")
    name = f"ext-{uuid.uuid4().hex[:8]}"
    notification = {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN",
                    "Threshold": 80.0, "ThresholdType": "PERCENTAGE"}
    budgets.create_budget(
        AccountId=BENCH_ACCOUNT,
        Budget={"BudgetName": name, "BudgetType": "COST", "TimeUnit": "MONTHLY",
                "BudgetLimit": {"Amount": "10", "Unit": "USD"}},
        NotificationsWithSubscribers=[{
            "Notification": notification,
            "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "a@example.com"}],
        }],
        ResourceTags=[{"Key": "Project", "Value": "hoopstat-haus"}],
    )
    subscribers = budgets.describe_subscribers_for_notification(
        AccountId=BENCH_ACCOUNT, BudgetName=name, Notification=notification
    )["Subscribers"]
    assert subscribers == [{"SubscriptionType": "EMAIL", "Address": "a@example.com"}]

    arn = f"arn:aws:budgets::{BENCH_ACCOUNT}:budget/{name}"
    assert budgets.list_tags_for_resource(ResourceARN=arn)["ResourceTags"] == [
        {"Key": "Project", "Value": "hoopstat-haus"}
    ]
    budgets.tag_resource(ResourceARN=arn, ResourceTags=[{"Key": "App", "Value": "x"}])
    budgets.untag_resource(ResourceARN=arn, ResourceTagKeys=["Project"])
    assert budgets.list_tags_for_resource(ResourceARN=arn)["ResourceTags"] == [
        {"Key": "App", "Value": "x"}
    ]

    other = {**notification, "Threshold": 50.0}
    with pytest.raises(ClientError) as missing:
        budgets.describe_subscribers_for_notification(
            AccountId=BENCH_ACCOUNT, BudgetName=name, Notification=other
        )
    assert missing.value.response["Error"]["Code"] == "NotFoundException"

    budgets.delete_budget(AccountId=BENCH_ACCOUNT, BudgetName=name)
    with pytest.raises(ClientError):
        budgets.list_tags_for_resource(ResourceARN=arn)


def test_replication_rule_keeps_source_selection_criteria(bench: Bench) -> None:
    """GetBucketReplication returns SourceSelectionCriteria and the filter that were put."""
    s3 = bench.admin_client("s3")
    source, target = f"ext-src-{uuid.uuid4().hex[:8]}", f"ext-dst-{uuid.uuid4().hex[:8]}"
    for bucket in (source, target):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{BENCH_ACCOUNT}:role/replication",
        "Rules": [{
            "ID": "backup", "Priority": 1, "Status": "Enabled",
            "Filter": {"Prefix": "raw/"},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
            "Destination": {"Bucket": f"arn:aws:s3:::{target}"},
        }],
    })
    rule = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"][0]
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    assert rule["Filter"] == {"Prefix": "raw/"}


def test_lambda_keeps_logging_config(bench: Bench) -> None:
    """CreateFunction's LoggingConfig is returned, defaults as Lambda's, and updates stick."""
    lam = bench.admin_client("lambda")
    name = f"ext-fn-{uuid.uuid4().hex[:8]}"
    role = bench.admin_client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "lambda.amazonaws.com"}}],
        }),
    )["Role"]["Arn"]
    lam.create_function(
        FunctionName=name, Role=role, PackageType="Image",
        Code={"ImageUri": f"{BENCH_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app:v1"},
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN"},
    )
    config = lam.get_function_configuration(FunctionName=name)["LoggingConfig"]
    assert config == {"LogFormat": "JSON", "ApplicationLogLevel": "WARN",
                      "SystemLogLevel": "INFO", "LogGroup": f"/aws/lambda/{name}"}
    lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "Text"})
    config = lam.get_function_configuration(FunctionName=name)["LoggingConfig"]
    assert config == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
