variable "name" {
  description = "Repository name (tests pass a unique one)."
  type        = string
  default     = "hoopstat-haus/stats-api"
}
