output "repository_name" {
  description = "Name of the repository."
  value       = aws_ecr_repository.this.name
}

output "repository_arn" {
  description = "ARN of the repository (for IAM policies)."
  value       = aws_ecr_repository.this.arn
}

output "repository_url" {
  description = "Registry URL of the repository: `<account>.dkr.ecr.<region>.amazonaws.com/<name>`."
  value       = aws_ecr_repository.this.repository_url
}

output "lifecycle_policy" {
  description = "The lifecycle policy JSON in force."
  value       = aws_ecr_lifecycle_policy.this.policy
}
