# GitHub's OIDC provider, a deploy role for one app repository (`main` and the `production`
# environment may deploy, nothing else) and a read-only plan role for its pull requests.
# With `subject_claim_keys` set, both roles expect the repository's customized subject format
# (e.g. pinned to the repository id and the suite's reusable workflows).

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

  subject_claim_keys   = var.subject_claim_keys
  repository_ids       = var.repository_id == null ? {} : { (var.repository) = var.repository_id }
  repository_owner_ids = var.repository_owner_id == null ? {} : { (split("/", var.repository)[0]) = var.repository_owner_id }
  deploy_workflow_refs = ["hoopstat-haus/hoopstat-factory/.github/workflows/deploy-lambda-app.yml@refs/tags/v1"]
  plan_workflow_refs   = ["hoopstat-haus/hoopstat-factory/.github/workflows/terraform.yml@refs/tags/v1"]

  break_glass_principal_arns = ["arn:aws:iam::${local.account_id}:role/hoopstat-admin"]
}
