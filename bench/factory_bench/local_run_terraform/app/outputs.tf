output "exports_bucket" {
  description = "The bucket the reviewed plan creates."
  value       = aws_s3_bucket.exports.bucket
}
