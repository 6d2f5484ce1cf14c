output "bucket_name" {
  description = "Name of the data bucket."
  value       = module.data_bucket.bucket_name
}

output "backup_bucket_name" {
  description = "Name of the backup bucket."
  value       = module.data_bucket.backup_bucket_name
}
