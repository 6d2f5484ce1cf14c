variable "name" {
  description = "Secret name, by convention `<app>/<purpose>`, e.g. `stats-api/upstream-api-key`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.name)) && !can(regex("-[A-Za-z0-9]{6}$", var.name))
    error_message = "name must be 1-512 characters from letters, digits and '/_+=.@-', and must not end in '-' plus 6 characters (Secrets Manager's ARN suffix)."
  }
}

variable "description" {
  description = "What the secret is and who uses it."
  type        = string
  default     = ""
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the secret. null uses the AWS managed key `aws/secretsmanager`."
  type        = string
  default     = null
}

variable "rotation_lambda_arn" {
  description = "ARN of the rotation function (it implements Secrets Manager's createSecret/setSecret/testSecret/finishSecret steps)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$", var.rotation_lambda_arn))
    error_message = "rotation_lambda_arn must be a Lambda function ARN (optionally with a version or alias)."
  }
}

variable "rotation_days" {
  description = "Rotate automatically every this many days."
  type        = number
  default     = 30

  validation {
    condition     = var.rotation_days >= 1 && var.rotation_days <= 1000 && floor(var.rotation_days) == var.rotation_days
    error_message = "rotation_days must be a whole number between 1 and 1000."
  }
}

variable "rotate_immediately" {
  description = "Rotate as soon as rotation is configured. false waits for the first scheduled window, so a new secret can be given its first value before the rotation function ever runs."
  type        = bool
  default     = false
}

variable "recovery_window_days" {
  description = "Days a deleted secret can be restored. 0 deletes at once (tests only)."
  type        = number
  default     = 30

  validation {
    condition     = var.recovery_window_days == 0 || (var.recovery_window_days >= 7 && var.recovery_window_days <= 30)
    error_message = "recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "tags" {
  description = "Tags for the secret, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
