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
