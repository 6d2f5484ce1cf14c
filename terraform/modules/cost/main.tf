# The tag standard and the monthly budget.
#
# A module cannot set its caller's provider `default_tags`, so the root module keeps the tag set
# in one local, passes it to both the provider's `default_tags` and this module's `tags`, and this
# module validates it: a stack with a missing or empty required tag fails at plan time.

locals {
  notifications = concat(
    [for t in var.actual_thresholds_percent : { type = "ACTUAL", threshold = t }],
    var.forecast_threshold_percent == null ? [] : [{ type = "FORECASTED", threshold = var.forecast_threshold_percent }],
  )
}

resource "aws_budgets_budget" "monthly" {
  name         = var.budget_name
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_limit_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"
  tags         = var.tags

  dynamic "cost_filter" {
    for_each = var.filter_by_project_tag ? [var.tags["Project"]] : []

    content {
      name   = "TagKeyValue"
      values = [format("user:Project$%s", cost_filter.value)]
    }
  }

  dynamic "notification" {
    for_each = local.notifications

    content {
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value.threshold
      threshold_type             = "PERCENTAGE"
      notification_type          = notification.value.type
      subscriber_email_addresses = var.alert_emails
      subscriber_sns_topic_arns  = var.alert_sns_topic_arns
    }
  }

  lifecycle {
    precondition {
      condition     = length(var.alert_emails) + length(var.alert_sns_topic_arns) > 0
      error_message = "A budget nobody hears about controls nothing: set alert_emails or alert_sns_topic_arns."
    }
  }
}
