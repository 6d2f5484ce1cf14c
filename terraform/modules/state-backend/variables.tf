variable "bucket_name" {
  description = "Name of the Terraform state bucket, e.g. `hoopstat-haus-tfstate`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for state objects. null uses the AWS managed key `aws/s3`."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the bucket while it holds state. Keep false outside tests: the state is the only map of what Terraform manages."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the bucket, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}

variable "administrator_role_arns" {
  description = "IAM role ARNs (wildcards allowed) that may delete old state versions, suspend versioning, or change the bucket's lifecycle rules or policy; everyone else is denied. Apply this module as one of them: after the first apply, nobody else can change or remove the bucket policy."
  type        = list(string)

  validation {
    condition     = length(var.administrator_role_arns) > 0 && alltrue([for arn in var.administrator_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "administrator_role_arns needs at least one IAM role ARN (arn:aws:iam::<account>:role/<name>), or nobody could ever clean up the bucket (or delete it)."
  }
}
