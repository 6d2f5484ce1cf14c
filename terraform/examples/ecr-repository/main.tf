# An app's image repository with the default lifecycle policy.

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

module "ecr" {
  source = "../../modules/ecr-repository"

  name         = var.name
  apps         = var.apps
  force_delete = true
}
