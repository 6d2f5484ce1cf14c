variable "function_name" {
  description = "Name of the Lambda function, e.g. `stats-api`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.function_name))
    error_message = "function_name must be 1-56 characters of letters, digits, '-' and '_' (room is left for role and alarm suffixes)."
  }
}

variable "image_uri" {
  description = "Container image for the first deployment (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:...` or `:tag`). Later images are rolled out by the lambda-deploy action; Terraform ignores this after creation."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$", var.image_uri))
    error_message = "image_uri must be an ECR image reference: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>."
  }
}

variable "image_command" {
  description = "CMD override for the image (the handler for AWS base images, e.g. `[\"app.handler\"]`). Empty keeps the image's CMD."
  type        = list(string)
  default     = []
}

variable "image_entry_point" {
  description = "ENTRYPOINT override for the image. Empty keeps the image's ENTRYPOINT."
  type        = list(string)
  default     = []
}

variable "image_working_directory" {
  description = "Working directory override for the image. null keeps the image's WORKDIR."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Instruction set the image is built for: `x86_64` (the default, matching the deploy workflow's default `platform: linux/amd64` and GitHub-hosted runners) or `arm64` (cheaper per GB-second; build with `platform: linux/arm64`)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function: a runaway caller cannot run up the bill or starve other functions. -1 removes the cap."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency == -1 || var.reserved_concurrency >= 0
    error_message = "reserved_concurrency must be -1 (no cap) or >= 0."
  }
}

variable "environment_variables" {
  description = "Environment variables. Never secrets: pass secret ARNs and read them at runtime (see `secret_arns`)."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for environment variables. null uses the AWS managed key `aws/lambda`."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "Customer managed KMS key for the log group. null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null
}

variable "application_log_level" {
  description = "Lowest level of the app's JSON log records sent to CloudWatch."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.application_log_level)
    error_message = "application_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "s3_read_prefixes" {
  description = "S3 locations the function may read, as `<bucket-arn>/<prefix>` (e.g. `arn:aws:s3:::hoopstat-haus-data/raw/`)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.s3_read_prefixes : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+/.*$", p))])
    error_message = "s3_read_prefixes must be '<bucket-arn>/<prefix>' values such as arn:aws:s3:::bucket/raw/."
  }
}

variable "s3_write_prefixes" {
  description = "S3 locations the function may write, as `<bucket-arn>/<prefix>`."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.s3_write_prefixes : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+/.*$", p))])
    error_message = "s3_write_prefixes must be '<bucket-arn>/<prefix>' values such as arn:aws:s3:::bucket/processed/."
  }
}

variable "secret_arns" {
  description = "Secrets Manager secrets the function may read."
  type        = list(string)
  default     = []
}

variable "secret_kms_key_arns" {
  description = "Customer managed KMS keys encrypting those secrets (none needed for the AWS managed key)."
  type        = list(string)
  default     = []
}

variable "alarm_topic_arn" {
  description = "SNS topic for alarms. null creates a topic named `<function_name>-alarms`."
  type        = string
  default     = null
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the created alarm topic (each must confirm)."
  type        = list(string)
  default     = []
}

variable "duration_p95_threshold_ms" {
  description = "Alarm when the p95 duration exceeds this many milliseconds. null uses 80% of the timeout."
  type        = number
  default     = null
}

variable "tags" {
  description = "Tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}

variable "log_group_name" {
  description = "An existing log group shared with other functions (e.g. `/hoopstat-haus/data-pipeline`) to log to instead of creating `/aws/lambda/<function_name>`. Its retention and encryption are its owner's; `log_retention_days` and `log_kms_key_arn` then do nothing."
  type        = string
  default     = null

  validation {
    condition     = var.log_group_name == null || can(regex("^[A-Za-z0-9_/.#-]{1,512}$", var.log_group_name))
    error_message = "log_group_name must be 1-512 characters of letters, digits and '_/.#-'."
  }
}

variable "failure_destination_arn" {
  description = "On-failure destination (SQS queue, SNS topic, Lambda function or EventBridge bus ARN) for asynchronous invocations of the `live` alias (S3 notifications, schedules) that fail every retry. null creates an encrypted SQS queue `<function_name>-dlq`."
  type        = string
  default     = null

  validation {
    condition     = var.failure_destination_arn == null || can(regex("^arn:aws[a-z-]*:(sqs|sns|lambda|events):[a-z0-9-]+:\\d{12}:.+$", var.failure_destination_arn))
    error_message = "failure_destination_arn must be an SQS queue, SNS topic, Lambda function or EventBridge event bus ARN."
  }
}

variable "async_retry_attempts" {
  description = "Retries Lambda makes for a failed asynchronous invocation before sending it to the failure destination (0-2)."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.async_retry_attempts)
    error_message = "async_retry_attempts must be 0, 1 or 2."
  }
}

variable "async_max_event_age_seconds" {
  description = "How long Lambda keeps retrying an asynchronous event before sending it to the failure destination (60-21600 s)."
  type        = number
  default     = 21600

  validation {
    condition     = var.async_max_event_age_seconds >= 60 && var.async_max_event_age_seconds <= 21600
    error_message = "async_max_event_age_seconds must be between 60 and 21600."
  }
}

variable "dead_letter_retention_seconds" {
  description = "How long the created `<function_name>-dlq` queue keeps a failed event (SQS allows 60 s to 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_retention_seconds >= 60 && var.dead_letter_retention_seconds <= 1209600
    error_message = "dead_letter_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}
