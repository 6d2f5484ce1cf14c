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

  s3_read_prefixes  = ["arn:aws:s3:::hoopstat-haus-data/raw/"]
  s3_write_prefixes = ["arn:aws:s3:::hoopstat-haus-data/processed/stats-api/"]
  secret_arns       = ["arn:aws:secretsmanager:us-east-1:${data.aws_caller_identity.current.account_id}:secret:stats-api/api-key-AbCdEf"]
  alarm_emails      = ["oncall@example.com"]

  environment_variables = {
    HOOPSTAT_DATA_BUCKET = "hoopstat-haus-data"
  }
}
