# The tag standard applied through default_tags, validated by the cost module, and a $25
# monthly budget that e-mails at 50%, 80% and 100% of actual and 100% of forecast spend.

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = var.tags
  }
}

module "cost" {
  source = "../../modules/cost"

  tags              = var.tags
  budget_name       = var.budget_name
  monthly_limit_usd = 25
  alert_emails      = ["billing@example.com"]
}
