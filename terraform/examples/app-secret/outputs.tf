output "secret_arn" {
  description = "ARN of the secret."
  value       = module.secret.secret_arn
}

output "rotation_function_arn" {
  description = "ARN of the rotation function."
  value       = aws_lambda_function.rotation.arn
}
