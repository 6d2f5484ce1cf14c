variable "budget_name" {
  description = "Name of the example budget (tests pass a unique one)."
  type        = string
  default     = "hoopstat-haus-monthly"
}

variable "tags" {
  description = "The stack's tag set: the provider's default_tags, validated by the cost module."
  type        = map(string)
  default = {
    Project     = "hoopstat-haus"
    Environment = "example"
    Owner       = "platform"
    App         = "shared"
    ManagedBy   = "terraform"
  }
}
