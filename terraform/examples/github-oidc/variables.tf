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
