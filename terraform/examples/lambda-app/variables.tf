variable "function_name" {
  description = "Name of the example function (tests pass a unique one)."
  type        = string
  default     = "stats-api"
}
