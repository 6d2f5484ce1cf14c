output "deploy_role_arn" {
  value = module.github_oidc.role_arn
}

output "repository_name" {
  value = module.ecr.repository_name
}

output "function_name" {
  value = module.function.function_name
}

output "data_bucket" {
  value = aws_s3_bucket.data.bucket
}

output "secret_name" {
  value = aws_secretsmanager_secret.app.name
}
