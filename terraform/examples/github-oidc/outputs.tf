output "role_arn" {
  description = "ARN of the deploy role (`role-to-assume` for oidc-login)."
  value       = module.github_oidc.role_arn
}

output "subjects" {
  description = "The exact `sub` claims the role accepts."
  value       = module.github_oidc.subjects
}
