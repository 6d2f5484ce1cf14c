variable "app" {
  description = "The app's name: names the function, repository, bucket, secret and role (tests pass a unique one)."
  type        = string
  default     = "stats-api"
}

variable "repository" {
  description = "The app's GitHub repository (`owner/name`), allowed to deploy from main and its environment."
  type        = string
  default     = "hoopstat-haus/stats-api"
}

variable "environment" {
  description = "Deployment environment: tag value and the GitHub environment allowed to deploy."
  type        = string
  default     = "production"
}

variable "state_bucket" {
  description = "Name of the Terraform state bucket (from examples/state-backend)."
  type        = string
  default     = "hoopstat-haus-tfstate"
}

variable "alert_email" {
  description = "Where alarms and budget alerts go."
  type        = string
  default     = "oncall@example.com"
}

variable "disposable" {
  description = "Let destroy remove non-empty buckets and repositories and delete the secret at once (tests only)."
  type        = bool
  default     = false
}
