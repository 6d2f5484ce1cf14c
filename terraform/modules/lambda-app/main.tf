# A container-image Lambda function behind the alias `live`, with JSON logs in a log group that
# expires (its own, or a shared one), X-Ray tracing, alarms on errors, throttles and p95
# duration, an on-failure destination for asynchronous invocations, and an execution role
# that reaches only the S3 prefixes and secrets it is given.
#
# Triggers (S3 notifications, schedules, event source mappings) should target `alias_arn`: an
# unqualified target runs $LATEST, which gets new code before the smoke test and is not moved
# back by a rollback.
#
# Terraform owns the function's configuration; the lambda-deploy action owns its code and the
# alias's version (it publishes a version per image and moves `live`). The image and the alias
# version are therefore ignored after creation, so a deploy is never reverted by the next apply.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition        = data.aws_partition.current.partition
  account_id       = data.aws_caller_identity.current.account_id
  create_log_group = var.log_group_name == null
  log_group        = local.create_log_group ? "/aws/lambda/${var.function_name}" : var.log_group_name
  log_group_arn    = "arn:${local.partition}:logs:${data.aws_region.current.name}:${local.account_id}:log-group:${local.log_group}"
  create_dlq       = var.failure_destination_arn == null
  dlq_arn          = local.create_dlq ? aws_sqs_queue.dlq[0].arn : var.failure_destination_arn
  # The call Lambda makes, with the execution role, to deliver a failed event.
  dlq_action = {
    sqs    = "sqs:SendMessage"
    sns    = "sns:Publish"
    lambda = "lambda:InvokeFunction"
    events = "events:PutEvents"
  }[split(":", local.dlq_arn)[2]]
  topic_arn    = var.alarm_topic_arn != null ? var.alarm_topic_arn : aws_sns_topic.alarms[0].arn
  p95_limit_ms = coalesce(var.duration_p95_threshold_ms, var.timeout * 1000 * 0.8)

  # "<bucket-arn>/<prefix>" -> bucket ARN and key prefix, for object and ListBucket grants.
  s3_read = [for p in var.s3_read_prefixes : {
    bucket = regex("^(arn:[^:]+:s3:::[^/]+)/(.*)$", p)[0]
    prefix = regex("^(arn:[^:]+:s3:::[^/]+)/(.*)$", p)[1]
  }]
  s3_write = [for p in var.s3_write_prefixes : {
    bucket = regex("^(arn:[^:]+:s3:::[^/]+)/(.*)$", p)[0]
    prefix = regex("^(arn:[^:]+:s3:::[^/]+)/(.*)$", p)[1]
  }]
  s3_list = {
    for bucket in distinct([for p in concat(local.s3_read, local.s3_write) : p.bucket]) :
    bucket => distinct([for p in concat(local.s3_read, local.s3_write) : "${p.prefix}*" if p.bucket == bucket])
  }
}

# ---------------------------------------------------------------------------------------------
# Execution role
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name        = "${var.function_name}-execution"
  description = "Execution role of the ${var.function_name} Lambda function"
  # The trust policy is the same for every version; SourceAccount stops a confused deputy.
  assume_role_policy = data.aws_iam_policy_document.trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid = "WriteOwnLogs"
    # The function's log group, or the shared one it is given (IAM cannot tell its streams from
    # another writer's there: Lambda names them by date and instance, not by function).
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }

  statement {
    sid = "OnFailureDestination"
    # Lambda delivers an asynchronous invocation that failed every retry here, with the execution
    # role's permissions.
    actions   = [local.dlq_action]
    resources = [local.dlq_arn]
  }

  statement {
    sid = "XRay"
    # X-Ray's write calls have no resource-level permissions in IAM.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = length(local.s3_list) > 0 ? [1] : []

    content {
      sid       = "ListOwnPrefixes"
      actions   = ["s3:ListBucket"]
      resources = keys(local.s3_list)

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = flatten(values(local.s3_list))
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.s3_read_prefixes) > 0 ? [1] : []

    content {
      sid       = "ReadPrefixes"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = [for p in var.s3_read_prefixes : "${p}*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.s3_write_prefixes) > 0 ? [1] : []

    content {
      sid       = "WritePrefixes"
      actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
      resources = [for p in var.s3_write_prefixes : "${p}*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []

    content {
      sid       = "ReadSecrets"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = var.secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.secret_kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "DecryptSecrets"
      actions   = ["kms:Decrypt"]
      resources = var.secret_kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "least-privilege"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# ---------------------------------------------------------------------------------------------
# Logs, function, alias
# ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  count = local.create_log_group ? 1 : 0

  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days): app logs are for debugging, and a year of them costs more than the app; raise log_retention_days where an audit needs it.
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions call only public AWS APIs (S3, Secrets Manager); a VPC would need NAT gateways (~$32/month each) and adds nothing without private resources to reach.
  #checkov:skip=CKV_AWS_116:Asynchronous invocations that fail every retry go to an on-failure destination (aws_lambda_function_event_invoke_config.live: the <function>-dlq queue or failure_destination_arn), which AWS recommends over a DLQ and which this check does not recognise.
  #checkov:skip=CKV_AWS_272:Code signing covers .zip packages only; container images are pinned by digest in an ECR repository with immutable tags and scan on push.
  function_name                  = var.function_name
  role                           = aws_iam_role.execution.arn
  package_type                   = "Image"
  image_uri                      = var.image_uri
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  publish                        = true
  tags                           = var.tags

  # Always present: Lambda reports an empty image config back, and without the block the
  # provider would plan to remove it on every run.
  image_config {
    command           = var.image_command
    entry_point       = var.image_entry_point
    working_directory = var.image_working_directory
  }

  dynamic "environment" {
    for_each = length(var.environment_variables) > 0 ? [1] : []

    content {
      variables = var.environment_variables
    }
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format            = "JSON"
    log_group             = local.create_log_group ? aws_cloudwatch_log_group.this[0].name : var.log_group_name
    application_log_level = var.application_log_level
    system_log_level      = "WARN"
  }

  lifecycle {
    # The lambda-deploy action rolls out images; see the note at the top.
    ignore_changes = [image_uri]
  }

  # The role's policy must exist before the first invocation writes logs.
  depends_on = [aws_iam_role_policy.execution]
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "The version serving traffic; moved by the lambda-deploy action"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version

  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}

# Asynchronous invocations of the alias (S3 notifications, schedules) that fail every retry, or
# wait too long, are delivered here with the error instead of vanishing. Set on the alias because
# triggers should target the alias; an unqualified ($LATEST) trigger does not get it.
resource "aws_lambda_function_event_invoke_config" "live" {
  function_name                = aws_lambda_function.this.function_name
  qualifier                    = aws_lambda_alias.live.name
  maximum_retry_attempts       = var.async_retry_attempts
  maximum_event_age_in_seconds = var.async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = local.dlq_arn
    }
  }

  # The role must be allowed to deliver before Lambda accepts the destination.
  depends_on = [aws_iam_role_policy.execution]
}

resource "aws_sqs_queue" "dlq" {
  count = local.create_dlq ? 1 : 0

  name                      = "${var.function_name}-dlq"
  message_retention_seconds = var.dead_letter_retention_seconds
  # SQS-managed encryption: no key to pay for, and Lambda's SendMessage needs no KMS grant.
  sqs_managed_sse_enabled = true
  tags                    = var.tags
}

# ---------------------------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  count = var.alarm_topic_arn == null ? 1 : 0

  name = "${var.function_name}-alarms"
  # The AWS managed key: encrypted at rest with no key to pay for; CloudWatch can publish to it.
  kms_master_key_id = "alias/aws/sns"
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = var.alarm_topic_arn == null ? toset(var.alarm_emails) : toset([])

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  # Alarms that fire on any occurrence in five minutes: one shape, one resource.
  count_alarms = {
    errors    = { metric = "Errors", description = "raised errors" }
    throttles = { metric = "Throttles", description = "was throttled (reserved concurrency reached)" }
  }
}

resource "aws_cloudwatch_metric_alarm" "count" {
  for_each = local.count_alarms

  alarm_name          = "${var.function_name}-${each.key}"
  alarm_description   = "${var.function_name} ${each.value.description}"
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "duration_p95" {
  alarm_name          = "${var.function_name}-duration-p95"
  alarm_description   = "${var.function_name} p95 duration above ${local.p95_limit_ms} ms"
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  extended_statistic  = "p95"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = local.p95_limit_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]
  tags                = var.tags
}
