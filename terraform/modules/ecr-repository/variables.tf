variable "name" {
  description = "Repository name, e.g. `hoopstat-haus/stats-api`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.name)) && length(var.name) >= 2 && length(var.name) <= 256
    error_message = "name must be 2-256 characters: lower-case letters and digits, separated by single '.', '_', '-' or '/'."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for image layers. null uses the AWS managed key `aws/ecr`."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "lifecycle_policy" {
  description = "Lifecycle policy JSON. null builds the default from the variables below: expire untagged images, keep the newest `src-` builds, never expire protected tags."
  type        = string
  default     = null

  validation {
    condition     = var.lifecycle_policy == null || can(jsondecode(var.lifecycle_policy).rules)
    error_message = "lifecycle_policy must be a JSON document with a top-level \"rules\" list (see the README)."
  }
}

variable "untagged_expire_days" {
  description = "Days after push when untagged images (failed or superseded pushes) expire."
  type        = number
  default     = 1

  validation {
    condition     = var.untagged_expire_days >= 1 && floor(var.untagged_expire_days) == var.untagged_expire_days
    error_message = "untagged_expire_days must be a whole number of days, at least 1."
  }
}

variable "keep_src_images" {
  description = "How many of the newest images tagged `src-<hash>` (per app in a shared repository: `<app>-src-<hash>`) to keep; older ones expire unless they also carry a protected tag."
  type        = number
  default     = 30

  validation {
    condition     = var.keep_src_images >= 1 && floor(var.keep_src_images) == var.keep_src_images
    error_message = "keep_src_images must be a whole number, at least 1."
  }
}

variable "protected_tag_prefixes" {
  description = "Tag prefixes never expired. `lambda-` marks images of retained Lambda versions (rollback targets; lambda-deploy adds and removes it). Add e.g. `release-` to keep release images forever."
  type        = list(string)
  default     = ["lambda-"]

  validation {
    condition     = length(var.protected_tag_prefixes) >= 1 && length(var.protected_tag_prefixes) <= 9 && alltrue([for p in var.protected_tag_prefixes : can(regex("^[A-Za-z0-9_.-]{1,64}$", p))])
    error_message = "protected_tag_prefixes must hold 1-9 tag prefixes (letters, digits, '_', '.', '-'); they take rule priorities 1-9."
  }
}

variable "force_delete" {
  description = "Allow `terraform destroy` to delete the repository while it still holds images. Keep false outside tests."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the repository, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}

variable "apps" {
  description = "Apps sharing this repository, e.g. `[\"stats-api\", \"box-score-ingest\"]`: each tags its builds `<app>-src-<hash>` and `<app>-<commit-sha>`, and each keeps its newest `keep_src_images` builds. Empty: one app, builds tagged `src-<hash>`."
  type        = list(string)
  default     = []

  validation {
    condition = length(var.apps) <= 40 && length(var.apps) == length(distinct(var.apps)) && alltrue([
      for app in var.apps : can(regex("^[a-z0-9][a-z0-9_.-]{0,62}$", app)) && !startswith(app, "lambda-") && app != "lambda" && app != "src"
    ])
    error_message = "apps must be at most 40 distinct names of lower-case letters, digits, '_', '.' and '-', none named or starting like the reserved `src`/`lambda-` tags."
  }
}
