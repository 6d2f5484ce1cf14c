output "bucket_name" {
  description = "Name of the data bucket."
  value       = aws_s3_bucket.data.id
}

output "bucket_arn" {
  description = "ARN of the data bucket; grant access to prefixes of it as `<arn>/<prefix>/*`."
  value       = aws_s3_bucket.data.arn
}

output "backup_bucket_name" {
  description = "Name of the backup bucket in the replica region."
  value       = aws_s3_bucket.backup.id
}

output "backup_bucket_arn" {
  description = "ARN of the backup bucket."
  value       = aws_s3_bucket.backup.arn
}

output "replication_role_arn" {
  description = "ARN of the role S3 uses to replicate into the backup bucket."
  value       = aws_iam_role.replication.arn
}
