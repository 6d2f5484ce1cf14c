variable "bucket_name" {
  description = "Name of the data bucket, e.g. `hoopstat-haus-data`. The backup bucket is named `<bucket_name>-backup`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,54}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$", var.bucket_name))
    error_message = "bucket_name must be 3-56 characters of lower-case letters, digits, '.' and '-' (room is left for the '-backup' suffix), start and end with a letter or digit, and not look like an IP address."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the data bucket. null uses the AWS managed key `aws/s3` (no monthly key charge)."
  type        = string
  default     = null
}

variable "replica_kms_key_arn" {
  description = "ARN of a customer managed KMS key in the replica region for the backup bucket. null uses that region's AWS managed key `aws/s3`."
  type        = string
  default     = null
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version stays recoverable in the data bucket."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "backup_noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version stays recoverable in the backup bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.backup_noncurrent_version_expiration_days >= 1 && floor(var.backup_noncurrent_version_expiration_days) == var.backup_noncurrent_version_expiration_days
    error_message = "backup_noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "intelligent_tiering_after_days" {
  description = "Days after which current objects move to S3 Intelligent-Tiering (cheaper for rarely read history). null keeps them in Standard."
  type        = number
  default     = 30

  validation {
    condition     = var.intelligent_tiering_after_days == null || try(var.intelligent_tiering_after_days >= 0, false)
    error_message = "intelligent_tiering_after_days must be null or a number of days >= 0."
  }
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which parts of an unfinished multipart upload are removed (the parts a crashed writer leaves behind; see ADR 0003)."
  type        = number
  default     = 1

  validation {
    condition     = var.abort_incomplete_multipart_days >= 1 && floor(var.abort_incomplete_multipart_days) == var.abort_incomplete_multipart_days
    error_message = "abort_incomplete_multipart_days must be a whole number of days, at least 1."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the buckets while they still hold objects. Keep false outside tests."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the buckets and the replication role, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
