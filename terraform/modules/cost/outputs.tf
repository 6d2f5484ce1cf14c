output "tags" {
  description = "The validated tag set (the same map the caller gave)."
  value       = var.tags
}

output "required_tag_keys" {
  description = "Tag keys every Hoopstat stack must set."
  value       = ["Project", "Environment", "Owner", "App", "ManagedBy"]
}

output "budget_name" {
  description = "Name of the monthly budget."
  value       = aws_budgets_budget.monthly.name
}

output "budget_arn" {
  description = "ARN of the monthly budget."
  value       = aws_budgets_budget.monthly.arn
}
