variable "create_provider" {
  description = "Create the account's IAM OIDC provider for GitHub. An account holds one per issuer: set false in every stack but one and pass `provider_arn`."
  type        = bool
  default     = true
}

variable "provider_arn" {
  description = "ARN of an existing GitHub OIDC provider, used when `create_provider` is false."
  type        = string
  default     = null

  validation {
    condition     = var.provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::\\d{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.provider_arn))
    error_message = "provider_arn must be an IAM OIDC provider ARN for token.actions.githubusercontent.com."
  }
}

variable "audience" {
  description = "Audience (`aud`) the tokens must carry; the oidc-login action requests `sts.amazonaws.com`."
  type        = string
  default     = "sts.amazonaws.com"
}

variable "role_name" {
  description = "Name of the deploy role, e.g. `hoopstat-stats-api-deploy`."
  type        = string

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 characters from letters, digits and '+=,.@_-'."
  }
}

variable "repositories" {
  description = "GitHub repositories (`owner/name`) allowed to assume the role."
  type        = list(string)

  validation {
    condition     = length(var.repositories) > 0 && alltrue([for r in var.repositories : can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", r))])
    error_message = "repositories must be a non-empty list of 'owner/name' without wildcards."
  }
}

variable "branches" {
  description = "Branches whose workflow runs may assume the role (pinned as `ref:refs/heads/<branch>`). Jobs that use a GitHub environment carry the environment in `sub` instead: list those in `environments`."
  type        = list(string)
  default     = ["main"]

  validation {
    condition     = alltrue([for b in var.branches : can(regex("^[A-Za-z0-9_./-]+$", b))])
    error_message = "branches must be exact branch names (no wildcards)."
  }
}

variable "environments" {
  description = "GitHub environments whose jobs may assume the role (pinned as `environment:<name>`). Protect them with required reviewers or branch rules in GitHub."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.environments : can(regex("^[A-Za-z0-9_.-]+$", e))])
    error_message = "environments must be exact environment names (no wildcards)."
  }
}

variable "max_session_duration" {
  description = "Longest session, in seconds, that oidc-login may request (`role-duration-seconds`)."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "ecr_repository_arns" {
  description = "ECR repositories the role may push to and read."
  type        = list(string)
  default     = []
}

variable "lambda_function_arns" {
  description = "Lambda functions the role may update, publish and re-point the aliases of (unqualified ARNs)."
  type        = list(string)
  default     = []
}

variable "state_bucket_arn" {
  description = "ARN of the Terraform state bucket; null grants no state access."
  type        = string
  default     = null
}

variable "state_key_prefix" {
  description = "Key prefix in the state bucket this role may read and write (its state objects and their `.tflock` lock files), e.g. `stats-api/`."
  type        = string
  default     = ""
}

variable "state_kms_key_arn" {
  description = "ARN of the KMS key encrypting the state bucket, if it is a customer managed key; null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for the role and the provider, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}

variable "break_glass_principal_arns" {
  description = "IAM role ARNs of humans (e.g. an SSO admin role) allowed to assume the deploy role directly when GitHub OIDC is down (see docs/runbooks/break-glass-oidc.md). Empty: OIDC only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.break_glass_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "break_glass_principal_arns takes IAM role ARNs (arn:aws:iam::<account>:role/<name>), never users or wildcards."
  }
}
