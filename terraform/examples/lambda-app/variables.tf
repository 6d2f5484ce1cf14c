variable "function_name" {
  description = "Name of the example function (tests pass a unique one)."
  type        = string
  default     = "stats-api"

  validation {
    condition     = can(regex("^[a-z0-9-]{1,48}$", var.function_name))
    error_message = "function_name must be 1-48 lower-case letters, digits and '-' (it also names the uploads bucket)."
  }
}
