# A secret rotated every 30 days by a rotation function. The function here is a minimal
# container-image function standing in for the app's real rotation code.

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
  name               = "${var.prefix}-rotation"
  assume_role_policy = data.aws_iam_policy_document.rotation_trust.json
}

resource "aws_lambda_function" "rotation" {
  function_name = "${var.prefix}-rotation"
  role          = aws_iam_role.rotation.arn
  package_type  = "Image"
  image_uri     = "${data.aws_caller_identity.current.account_id}.dkr.ecr.us-east-1.amazonaws.com/hoopstat-haus/secret-rotation:v1"
  timeout       = 60

  image_config {
    command = ["rotation.handler"]
  }

  tracing_config {
    mode = "Active"
  }
}

module "secret" {
  source = "../../modules/app-secret"

  name                = "${var.prefix}/upstream-api-key"
  description         = "API key for the upstream stats provider"
  rotation_lambda_arn = aws_lambda_function.rotation.arn
  rotation_role_arn   = aws_iam_role.rotation.arn
  reader_role_arns    = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/stats-api-execution"]
  create_kms_key      = true
  rotation_days       = 30
  # The example is destroyed by its test; a real secret keeps the 30-day recovery window.
  recovery_window_days = 0
}
