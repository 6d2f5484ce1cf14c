# A container-image function that reads raw data, writes processed data and reads one secret.
# On the bench any image URI is accepted (moto does not check ECR by default).

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

module "lambda_app" {
  source = "../../modules/lambda-app"

  function_name = var.function_name
  image_uri     = "${data.aws_caller_identity.current.account_id}.dkr.ecr.us-east-1.amazonaws.com/hoopstat-haus/stats-api:src-0123456789ab"
  image_command = ["app.handler"]
  architecture  = "x86_64"

  s3_read_prefixes  = ["arn:aws:s3:::hoopstat-haus-data/raw/"]
  s3_write_prefixes = ["arn:aws:s3:::hoopstat-haus-data/processed/stats-api/"]
  secret_arns       = ["arn:aws:secretsmanager:us-east-1:${data.aws_caller_identity.current.account_id}:secret:stats-api/api-key-AbCdEf"]
  alarm_emails      = ["oncall@example.com"]

  environment_variables = {
    HOOPSTAT_DATA_BUCKET = "hoopstat-haus-data"
  }
}

# An S3 trigger wired the way every trigger should be: to the `live` alias, so a deploy's smoke
# test runs before new code gets events and a rollback moves the trigger back too.
resource "aws_s3_bucket" "uploads" {
  bucket        = "${var.function_name}-uploads"
  force_destroy = true
}

resource "aws_lambda_permission" "uploads" {
  statement_id  = "AllowS3Uploads"
  action        = "lambda:InvokeFunction"
  function_name = module.lambda_app.function_name
  qualifier     = module.lambda_app.alias_name
  principal     = "s3.amazonaws.com"
  source_arn    = aws_s3_bucket.uploads.arn
  # Without it another account's bucket of the same name could invoke the function.
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  lambda_function {
    lambda_function_arn = module.lambda_app.alias_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "raw/"
  }

  depends_on = [aws_lambda_permission.uploads]
}
