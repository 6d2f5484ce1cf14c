variable "bucket_name" {
  description = "Name of the example data bucket (tests pass a unique one)."
  type        = string
  default     = "hoopstat-example-data"
}
