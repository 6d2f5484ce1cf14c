output "budget_name" {
  description = "Name of the budget."
  value       = module.cost.budget_name
}

output "tags" {
  description = "The validated tag set."
  value       = module.cost.tags
}
