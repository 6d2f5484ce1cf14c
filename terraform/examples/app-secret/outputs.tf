output "secret_arn" {
  description = "ARN of the secret."
  value       = module.secret.secret_arn
}

output "rotation_function_arn" {
  description = "ARN of the rotation function."
  value       = aws_lambda_function.rotation.arn
}

output "placeholder_version_id" {
  description = "Version id of the placeholder value (the only version non-readers can read)."
  value       = module.secret.placeholder_version_id
}
