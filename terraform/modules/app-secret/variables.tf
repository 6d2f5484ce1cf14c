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

  validation {
    condition     = length(var.description) <= 2048
    error_message = "description must be at most 2048 characters."
  }
}

variable "kms_key_arn" {
  description = "Existing customer managed KMS key for the secret. null (with `create_kms_key = false`) uses the AWS managed key `aws/secretsmanager`, which every principal in the account with secretsmanager access can use."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "create_kms_key" {
  description = "Create a customer managed key (rotated yearly, ~$1/month) for this secret, usable for decryption only by the readers and the rotation role through Secrets Manager. Overrides `kms_key_arn`."
  type        = bool
  default     = false
}

variable "reader_role_arns" {
  description = "IAM role ARNs that may read the secret's values (the app's execution role, e.g. the lambda-app module's `execution_role_arn`). Everyone else is denied by the secret's resource policy, whatever their IAM policies say."
  type        = list(string)

  validation {
    condition     = length(var.reader_role_arns) > 0 && alltrue([for arn in var.reader_role_arns : can(regex("^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]+$", arn))])
    error_message = "reader_role_arns must list at least one IAM role ARN (arn:aws:iam::<account>:role/<name>), without wildcards."
  }
}

variable "rotation_role_arn" {
  description = "ARN of the rotation function's execution role: it reads and writes the values it rotates."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]+$", var.rotation_role_arn))
    error_message = "rotation_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
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
  description = "Tags for the secret (and its key), on top of the provider's default_tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 50
    error_message = "Secrets Manager takes at most 50 tags per secret."
  }
}
