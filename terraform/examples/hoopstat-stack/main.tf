# The Hoopstat stack for one app, composed from the modules: tags and budget, GitHub OIDC deploy
# role, image repository, data bucket with cross-region backup, a rotated secret, and the
# container-image function that reads raw data, writes processed data and reads the secret.
# The state bucket is created once per account by examples/state-backend; this stack would keep
# its own state there (backend block omitted so the example also runs with local state).

locals {
  tags = {
    Project     = "hoopstat-haus"
    Environment = var.environment
    Owner       = "platform"
    App         = var.app
    ManagedBy   = "terraform"
  }
  region     = "us-east-1"
  account_id = data.aws_caller_identity.current.account_id
}

provider "aws" {
  region = local.region

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

data "aws_caller_identity" "current" {}

module "cost" {
  source = "../../modules/cost"

  tags              = local.tags
  budget_name       = "${var.app}-monthly"
  monthly_limit_usd = 25
  alert_emails      = [var.alert_email]
}

module "ecr" {
  source = "../../modules/ecr-repository"

  name         = "hoopstat-haus/${var.app}"
  force_delete = var.disposable
}

module "data" {
  source = "../../modules/data-bucket"

  providers = {
    aws         = aws
    aws.replica = aws.replica
  }

  bucket_name   = "${var.app}-data"
  force_destroy = var.disposable
}

# Stands in for the app's own rotation code (built and pushed like the app's image).
data "aws_iam_policy_document" "rotation_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rotation" {
  name               = "${var.app}-secret-rotation"
  assume_role_policy = data.aws_iam_policy_document.rotation_trust.json
}

resource "aws_lambda_function" "rotation" {
  function_name = "${var.app}-secret-rotation"
  role          = aws_iam_role.rotation.arn
  package_type  = "Image"
  image_uri     = "${module.ecr.repository_url}:v1-rotation"
  timeout       = 60

  image_config {
    command = ["rotation.handler"]
  }

  tracing_config {
    mode = "Active"
  }
}

module "api_key" {
  source = "../../modules/app-secret"

  name                = "${var.app}/upstream-api-key"
  description         = "API key for the upstream stats provider"
  rotation_lambda_arn = aws_lambda_function.rotation.arn
  rotation_role_arn   = aws_iam_role.rotation.arn
  # The function's execution role, by name: module.function takes this secret's ARN, so its
  # output would make a cycle.
  reader_role_arns     = ["arn:aws:iam::${local.account_id}:role/${var.app}-execution"]
  create_kms_key       = true
  recovery_window_days = var.disposable ? 0 : 30
}

module "function" {
  source = "../../modules/lambda-app"

  function_name       = var.app
  image_uri           = "${module.ecr.repository_url}:src-0123456789ab"
  image_command       = ["app.handler"]
  s3_read_prefixes    = ["${module.data.bucket_arn}/raw/"]
  s3_write_prefixes   = ["${module.data.bucket_arn}/processed/${var.app}/"]
  secret_arns         = [module.api_key.secret_arn]
  secret_kms_key_arns = [module.api_key.kms_key_arn]
  alarm_emails        = [var.alert_email]

  environment_variables = {
    HOOPSTAT_DATA_BUCKET         = module.data.bucket_name
    UPSTREAM_API_KEY_SECRET_NAME = module.api_key.secret_name
  }
}

module "github_oidc" {
  source = "../../modules/github-oidc"

  role_name            = "${var.app}-deploy"
  repositories         = [var.repository]
  environments         = [var.environment]
  ecr_repository_arns  = [module.ecr.repository_arn]
  lambda_function_arns = [module.function.function_arn]
  state_bucket_arn     = "arn:aws:s3:::${var.state_bucket}"
  state_key_prefix     = "${var.app}/"
}
