output "function_name" {
  description = "Name of the function (the lambda-deploy action's `function-name`)."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "alias_name" {
  description = "The alias serving traffic."
  value       = aws_lambda_alias.live.name
}

output "alias_arn" {
  description = "ARN of the `live` alias: what callers and triggers (S3 notifications, schedules, event source mappings, `aws_lambda_permission` with `qualifier = alias_name`) should invoke, so they move with deploys and rollbacks."
  value       = aws_lambda_alias.live.arn
}

output "execution_role_arn" {
  description = "ARN of the execution role."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the function (the shared one when `log_group_name` was given)."
  value       = local.log_group
}

output "failure_destination_arn" {
  description = "Where failed asynchronous invocations of the alias go: the created `<function_name>-dlq` queue or the given destination."
  value       = local.dlq_arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = local.topic_arn
}

output "alarm_names" {
  description = "Names of the errors, throttles and p95 duration alarms."
  value = [
    aws_cloudwatch_metric_alarm.count["errors"].alarm_name,
    aws_cloudwatch_metric_alarm.count["throttles"].alarm_name,
    aws_cloudwatch_metric_alarm.duration_p95.alarm_name,
  ]
}
