variable "role_name" {
  description = "Name of the deploy role (tests pass a unique one)."
  type        = string
  default     = "hoopstat-stats-api-deploy"
}

variable "repository" {
  description = "The app repository allowed to deploy."
  type        = string
  default     = "hoopstat-haus/stats-api"
}

variable "subject_claim_keys" {
  description = "The repository's OIDC subject template, or null for GitHub's default (tests pass both)."
  type        = list(string)
  default     = null
}

variable "repository_id" {
  description = "Numeric GitHub id of the repository (needed when the template includes repository_id)."
  type        = string
  default     = null

  validation {
    condition     = var.repository_id == null || can(regex("^[0-9]+$", var.repository_id))
    error_message = "repository_id must be numeric."
  }
}

variable "repository_owner_id" {
  description = "Numeric GitHub id of the repository's owner (needed when the template includes repository_owner_id)."
  type        = string
  default     = null

  validation {
    condition     = var.repository_owner_id == null || can(regex("^[0-9]+$", var.repository_owner_id))
    error_message = "repository_owner_id must be numeric."
  }
}
