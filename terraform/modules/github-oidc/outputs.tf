output "role_arn" {
  description = "ARN of the deploy role: the `role-to-assume` input of the oidc-login action."
  value       = aws_iam_role.deploy.arn
}

output "role_name" {
  description = "Name of the deploy role."
  value       = aws_iam_role.deploy.name
}

output "provider_arn" {
  description = "ARN of the GitHub OIDC provider the role trusts."
  value       = local.provider_arn
}

output "subjects" {
  description = "The exact `sub` claims the trust policy accepts."
  value       = local.subjects
}
