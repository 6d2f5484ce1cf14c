variable "bucket_name" {
  description = "Name of the example state bucket (tests pass a unique one)."
  type        = string
  default     = "hoopstat-haus-tfstate"
}
