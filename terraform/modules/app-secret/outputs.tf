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

output "kms_key_arn" {
  description = "The customer managed key encrypting the secret (pass it to readers' `secret_kms_key_arns`), or null for the AWS managed key."
  value       = local.kms_key_arn
}

output "placeholder_version_id" {
  description = "Version id of the placeholder value: the only version non-readers (e.g. Terraform's plan role) can read."
  value       = aws_secretsmanager_secret_version.placeholder.version_id
}
