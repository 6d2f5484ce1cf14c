variable "tags" {
  description = "The stack's tag set, also given to the provider's `default_tags` so every resource carries it. Must hold every key in `required_tag_keys`, each non-empty."
  type        = map(string)

  validation {
    condition = alltrue([
      for key in ["Project", "Environment", "Owner", "App", "ManagedBy"] : trimspace(lookup(var.tags, key, "")) != ""
    ])
    error_message = "tags must set Project, Environment, Owner, App and ManagedBy, each non-empty (see docs/adr/0005-cost-management-and-tagging.md)."
  }

  validation {
    condition     = alltrue([for key, value in var.tags : can(regex("^[\\w .:/=+@-]{1,128}$", key)) && can(regex("^[\\w .:/=+@-]{0,256}$", value))])
    error_message = "tag keys must be 1-128 and values 0-256 characters from letters, digits, spaces and '_.:/=+-@'."
  }

  validation {
    condition     = contains(["production", "staging", "development", "example"], lookup(var.tags, "Environment", ""))
    error_message = "tags.Environment must be one of production, staging, development, example."
  }
}

variable "budget_name" {
  description = "Name of the monthly cost budget, e.g. `hoopstat-haus-monthly`."
  type        = string

  validation {
    condition     = can(regex("^[^:\\\\]{1,100}$", var.budget_name))
    error_message = "budget_name must be 1-100 characters without ':' or '\\'."
  }
}

variable "monthly_limit_usd" {
  description = "Monthly budget in US dollars."
  type        = number

  validation {
    condition     = var.monthly_limit_usd > 0
    error_message = "monthly_limit_usd must be greater than 0."
  }
}

variable "filter_by_project_tag" {
  description = "Count only costs tagged with this stack's `Project` (activate `Project` as a cost allocation tag in the Billing console first). false budgets the whole account."
  type        = bool
  default     = true
}

variable "actual_thresholds_percent" {
  description = "Alert when actual spend passes each of these percentages of the limit."
  type        = list(number)
  default     = [50, 80, 100]

  validation {
    condition     = alltrue([for t in var.actual_thresholds_percent : t > 0 && t <= 1000])
    error_message = "actual_thresholds_percent values must be between 0 (exclusive) and 1000."
  }
}

variable "forecast_threshold_percent" {
  description = "Alert when forecasted spend for the month passes this percentage of the limit; null for no forecast alert."
  type        = number
  default     = 100
}

variable "alert_emails" {
  description = "E-mail addresses that receive budget alerts (at most 10)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.alert_emails) <= 10 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must be at most 10 e-mail addresses."
  }
}

variable "alert_sns_topic_arns" {
  description = "SNS topics that receive budget alerts (their policy must let budgets.amazonaws.com publish)."
  type        = list(string)
  default     = []
}
