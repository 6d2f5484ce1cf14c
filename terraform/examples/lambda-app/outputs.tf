output "function_name" {
  description = "Name of the function."
  value       = module.lambda_app.function_name
}

output "alias_arn" {
  description = "ARN of the live alias."
  value       = module.lambda_app.alias_arn
}

output "alarm_names" {
  description = "The alarm names."
  value       = module.lambda_app.alarm_names
}

output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify."
  value       = module.lambda_app.alarm_topic_arn
}

output "failure_destination_arn" {
  description = "Where failed asynchronous invocations go."
  value       = module.lambda_app.failure_destination_arn
}

output "uploads_bucket" {
  description = "The bucket whose uploads under raw/ invoke the live alias."
  value       = aws_s3_bucket.uploads.id
}
