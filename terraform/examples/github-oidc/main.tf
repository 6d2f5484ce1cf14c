# GitHub's OIDC provider and a deploy role for one app repository: `main` and the `production`
# environment may deploy, nothing else.

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      Project     = "hoopstat-haus"
      Environment = "example"
      Owner       = "platform"
      App         = "stats-api"
      ManagedBy   = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
}

module "github_oidc" {
  source = "../../modules/github-oidc"

  role_name    = var.role_name
  repositories = [var.repository]
  branches     = ["main"]
  environments = ["production"]

  ecr_repository_arns  = ["arn:aws:ecr:us-east-1:${local.account_id}:repository/hoopstat-haus/stats-api"]
  lambda_function_arns = ["arn:aws:lambda:us-east-1:${local.account_id}:function:stats-api"]
  state_bucket_arn     = "arn:aws:s3:::hoopstat-haus-tfstate"
  state_key_prefix     = "stats-api/"
}
