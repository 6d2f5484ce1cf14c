output "secret_arn" {
  description = "ARN of the secret: grant it to readers (the lambda-app module's `secret_arns`)."
  value       = aws_secretsmanager_secret.this.arn
}

output "secret_name" {
  description = "Name of the secret."
  value       = aws_secretsmanager_secret.this.name
}

output "rotation_days" {
  description = "Days between automatic rotations."
  value       = var.rotation_days
}
