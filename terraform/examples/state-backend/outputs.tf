output "backend_config" {
  description = "Settings for the S3 backend."
  value       = module.state_backend.backend_config
}
