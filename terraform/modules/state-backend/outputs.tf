output "bucket_name" {
  description = "Name of the state bucket."
  value       = aws_s3_bucket.state.id
}

output "bucket_arn" {
  description = "ARN of the state bucket (the github-oidc module's `state_bucket_arn`)."
  value       = aws_s3_bucket.state.arn
}

output "backend_config" {
  description = "Settings for an app's `backend \"s3\"` block or `-backend-config` file; add a `key` per app, e.g. `stats-api/terraform.tfstate`."
  value = {
    bucket       = aws_s3_bucket.state.id
    region       = aws_s3_bucket.state.region
    encrypt      = true
    use_lockfile = true
  }
}
