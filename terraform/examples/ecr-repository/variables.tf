variable "name" {
  description = "Repository name (tests pass a unique one)."
  type        = string
  default     = "hoopstat-haus/stats-api"
}

variable "apps" {
  description = "Apps sharing the repository (empty: one app); tests pass both."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.apps) <= 40
    error_message = "At most 40 apps can share a repository."
  }
}
