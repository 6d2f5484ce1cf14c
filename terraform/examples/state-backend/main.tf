# The state bucket for every Hoopstat app's Terraform; created once, from a workstation, with
# local state (a backend cannot store the state of its own bucket before the bucket exists).

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      Project     = "hoopstat-haus"
      Environment = "example"
      Owner       = "platform"
      App         = "terraform-state"
      ManagedBy   = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

module "state_backend" {
  source = "../../modules/state-backend"

  bucket_name             = var.bucket_name
  administrator_role_arns = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/hoopstat-admin"]
  force_destroy           = true
}
