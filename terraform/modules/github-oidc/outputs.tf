output "role_arn" {
  description = "ARN of the deploy role: the `role-to-assume` of oidc-login in deploy, rollback, Terraform apply and drift jobs."
  value       = aws_iam_role.deploy.arn
}

output "role_name" {
  description = "Name of the deploy role."
  value       = aws_iam_role.deploy.name
}

output "plan_role_arn" {
  description = "ARN of the read-only plan role: the `role-to-assume` of the Terraform plan job on pull requests. null when `create_plan_role` is false."
  value       = var.create_plan_role ? aws_iam_role.plan[0].arn : null
}

output "plan_role_name" {
  description = "Name of the plan role (null when not created)."
  value       = var.create_plan_role ? aws_iam_role.plan[0].name : null
}

output "provider_arn" {
  description = "ARN of the GitHub OIDC provider the roles trust."
  value       = local.provider_arn
}

output "subjects" {
  description = "The exact `sub` claims the deploy role accepts (same as `deploy_subjects`)."
  value       = local.deploy_subjects
}

output "deploy_subjects" {
  description = "The exact `sub` claims the deploy role accepts: the listed branches and environments, in the repository's subject format."
  value       = local.deploy_subjects
}

output "plan_subjects" {
  description = "The exact `sub` claims the plan role accepts: the repositories' `pull_request` context, in the repository's subject format."
  value       = local.plan_subjects
}

output "subject_claim_keys" {
  description = "The subject template the roles expect (`include_claim_keys`); set the same on each repository, or leave GitHub's default when this is [\"repo\", \"context\"]."
  value       = local.claim_keys
}
