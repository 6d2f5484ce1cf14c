provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      Project     = "hoopstat-haus"
      App         = var.app
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

module "ecr" {
  source = "../modules/ecr-repository"

  name         = "hoopstat-haus/${var.name}"
  force_delete = true
}

resource "aws_s3_bucket" "data" {
  bucket        = "${var.name}-data"
  force_destroy = true
}

resource "aws_secretsmanager_secret" "app" {
  name                    = "${var.name}/signing"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id     = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({ signing_key = var.signing_key })
}

# The on-failure destination for asynchronous invokes: a topic, since the bench's provider override
# routes SNS but not SQS (the module's default DLQ) to moto.
# Its ARN is spelled out (not the resource's attribute) so the module's count is known at plan.
resource "aws_sns_topic" "failures" {
  name = "${var.name}-failures"
}

data "aws_caller_identity" "current" {}

locals {
  failures_topic_arn = "arn:aws:sns:us-east-1:${data.aws_caller_identity.current.account_id}:${var.name}-failures"
}

module "function" {
  source = "../modules/lambda-app"

  function_name     = var.name
  image_uri         = "${module.ecr.repository_url}:bootstrap"
  timeout           = 30
  s3_read_prefixes  = ["${aws_s3_bucket.data.arn}/raw/"]
  s3_write_prefixes = ["${aws_s3_bucket.data.arn}/processed/${var.app}/"]
  secret_arns       = [aws_secretsmanager_secret.app.arn]

  failure_destination_arn = local.failures_topic_arn
  depends_on              = [aws_sns_topic.failures]

  environment_variables = {
    HOOPSTAT_DATA_BUCKET    = aws_s3_bucket.data.bucket
    HOOPSTAT_APP            = var.app
    POWERTOOLS_SERVICE_NAME = var.app
    (var.secret_env)        = aws_secretsmanager_secret.app.name
  }
}

module "github_oidc" {
  source = "../modules/github-oidc"

  role_name            = "${var.name}-deploy"
  repositories         = [var.repository]
  environments         = [var.environment]
  create_provider      = var.oidc_provider_arn == null
  provider_arn         = var.oidc_provider_arn
  ecr_repository_arns  = [module.ecr.repository_arn]
  lambda_function_arns = [module.function.function_arn]
}
