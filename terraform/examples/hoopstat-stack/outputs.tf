output "deploy_role_arn" {
  description = "`role-to-assume` for oidc-login."
  value       = module.github_oidc.role_arn
}

output "repository_url" {
  description = "Where ecr-push pushes the app's images."
  value       = module.ecr.repository_url
}

output "function_name" {
  description = "What lambda-deploy deploys."
  value       = module.function.function_name
}

output "alias_arn" {
  description = "ARN of the live alias."
  value       = module.function.alias_arn
}

output "data_bucket" {
  description = "The app's data bucket."
  value       = module.data.bucket_name
}

output "secret_arn" {
  description = "The app's rotated secret."
  value       = module.api_key.secret_arn
}
