output "role_arn" {
  description = "ARN of the deploy role (`role-to-assume` for oidc-login in deploy and apply jobs)."
  value       = module.github_oidc.role_arn
}

output "plan_role_arn" {
  description = "ARN of the read-only plan role (`role-to-assume` for the pull-request plan job)."
  value       = module.github_oidc.plan_role_arn
}

output "subjects" {
  description = "The exact `sub` claims the deploy role accepts."
  value       = module.github_oidc.subjects
}

output "plan_subjects" {
  description = "The exact `sub` claims the plan role accepts."
  value       = module.github_oidc.plan_subjects
}
