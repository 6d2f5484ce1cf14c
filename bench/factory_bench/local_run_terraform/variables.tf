variable "app" {
  description = "The app's name (HOOPSTAT_APP, its processed/ prefix)."
  type        = string
}

variable "name" {
  description = "Prefix of every resource (the app's name, plus a suffix in tests)."
  type        = string
}

variable "repository" {
  description = "The app's GitHub repository, OWNER/NAME."
  type        = string
}

variable "environment" {
  description = "The GitHub environment the deploy jobs run in."
  type        = string
}

variable "secret_env" {
  description = "Environment variable that names the app's secret, e.g. HELLO_STATS_SECRET_NAME."
  type        = string
}

variable "signing_key" {
  description = "The secret's value (random per run; passed as TF_VAR_signing_key, never argv)."
  type        = string
  sensitive   = true
}

variable "oidc_provider_arn" {
  description = "GitHub's OIDC provider when the account has one already (it is one per account)."
  type        = string
  default     = null
}
