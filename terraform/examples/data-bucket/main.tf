# A data bucket in us-east-1 replicated to a backup bucket in us-west-2.
# Applied by tests/terraform against the bench's moto (which also supplies the endpoints).

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "replica"
  region = "us-west-2"

  default_tags {
    tags = local.tags
  }
}

locals {
  tags = {
    Project     = "hoopstat-haus"
    Environment = "example"
    Owner       = "platform"
    App         = "data"
    ManagedBy   = "terraform"
  }
}

module "data_bucket" {
  source = "../../modules/data-bucket"

  providers = {
    aws         = aws
    aws.replica = aws.replica
  }

  bucket_name   = var.bucket_name
  force_destroy = true
}
