output "repository_url" {
  description = "Registry URL of the repository."
  value       = module.ecr.repository_url
}

output "lifecycle_policy" {
  description = "The lifecycle policy JSON in force."
  value       = module.ecr.lifecycle_policy
}
