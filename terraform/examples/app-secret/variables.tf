variable "prefix" {
  description = "Name prefix for the example's function and secret (tests pass a unique one)."
  type        = string
  default     = "stats-api"
}
