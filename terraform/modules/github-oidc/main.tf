# GitHub's OIDC identity provider and one deploy role that only the named repositories' `main`
# branch (or named environments) can assume, with permissions limited to the app's ECR
# repository, Lambda function and aliases, and its Terraform state.

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  issuer_host  = "token.actions.githubusercontent.com"
  provider_arn = var.create_provider ? aws_iam_openid_connect_provider.github[0].arn : var.provider_arn

  # `sub` claims GitHub issues: `repo:<owner>/<repo>:ref:refs/heads/<branch>` for a job without an
  # environment, `repo:<owner>/<repo>:environment:<name>` for a job in one. Exact values only: a
  # wildcard here would let any branch (or a fork's pull request) deploy.
  subjects = concat(
    flatten([for repo in var.repositories : [for branch in var.branches : "repo:${repo}:ref:refs/heads/${branch}"]]),
    flatten([for repo in var.repositories : [for env in var.environments : "repo:${repo}:environment:${env}"]]),
  )

  state_objects = var.state_bucket_arn == null ? [] : ["${var.state_bucket_arn}/${var.state_key_prefix}*"]
  lambda_qualified = flatten([
    for arn in var.lambda_function_arns : [arn, "${arn}:*"]
  ])
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_provider ? 1 : 0

  url            = "https://${local.issuer_host}"
  client_id_list = [var.audience]
  # AWS no longer checks these for GitHub (it trusts the issuer's CA), but older accounts and the
  # API still want at least one; these are GitHub's published intermediate thumbprints.
  thumbprint_list = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
  ]
  tags = var.tags
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "GitHubActionsOIDC"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer_host}:aud"
      values   = [var.audience]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer_host}:sub"
      values   = local.subjects
    }
  }

  # Break glass (docs/runbooks/break-glass-oidc.md): named human roles may assume the deploy
  # role directly while GitHub's OIDC is down. Empty by default.
  dynamic "statement" {
    for_each = length(var.break_glass_principal_arns) > 0 ? [1] : []

    content {
      sid     = "BreakGlass"
      effect  = "Allow"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "AWS"
        identifiers = var.break_glass_principal_arns
      }
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = var.role_name
  description          = "GitHub Actions deploy role for ${join(", ", var.repositories)}"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = var.create_provider || var.provider_arn != null
      error_message = "Set provider_arn when create_provider is false."
    }
    precondition {
      condition     = length(local.subjects) > 0
      error_message = "branches and environments are both empty: no workflow could assume the role."
    }
  }
}

data "aws_iam_policy_document" "deploy" {
  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) > 0 ? [1] : []

    content {
      sid = "EcrLogin"
      # GetAuthorizationToken has no resource-level permissions in IAM.
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) > 0 ? [1] : []

    content {
      sid = "EcrPushPull"
      actions = [
        "ecr:BatchCheckLayerAvailability",
        # lambda-deploy removes a pruned version's rollback tag (by tag only, never a digest).
        "ecr:BatchDeleteImage",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImageScanFindings",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload",
        "ecr:ListImages",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ]
      resources = var.ecr_repository_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.lambda_function_arns) > 0 ? [1] : []

    content {
      sid = "LambdaDeploy"
      actions = [
        "lambda:GetAlias",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:InvokeFunction",
        "lambda:ListAliases",
        "lambda:ListVersionsByFunction",
        "lambda:PublishVersion",
        "lambda:UpdateAlias",
        "lambda:UpdateFunctionCode",
        # First deploy of a function whose alias Terraform did not create.
        "lambda:CreateAlias",
      ]
      resources = local.lambda_qualified
    }
  }

  dynamic "statement" {
    for_each = length(var.lambda_function_arns) > 0 ? [1] : []

    content {
      sid = "LambdaPruneVersions"
      # lambda-deploy's retention deletes old published versions; qualified ARNs only, so the
      # role can never delete the function itself.
      actions   = ["lambda:DeleteFunction"]
      resources = [for arn in var.lambda_function_arns : "${arn}:*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.lambda_function_arns) > 0 ? [1] : []

    content {
      sid = "WatchAlarms"
      # Canary and linear deploys read the alarms named in `alarm-names` while traffic shifts.
      actions   = ["cloudwatch:DescribeAlarms"]
      resources = ["arn:${data.aws_partition.current.partition}:cloudwatch:*:${data.aws_caller_identity.current.account_id}:alarm:*"]
    }
  }

  dynamic "statement" {
    for_each = var.state_bucket_arn == null ? [] : [1]

    content {
      sid       = "StateList"
      actions   = ["s3:ListBucket"]
      resources = [var.state_bucket_arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${var.state_key_prefix}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.state_bucket_arn == null ? [] : [1]

    content {
      sid = "StateReadWrite"
      # DeleteObject is for the `.tflock` lock file that the S3 backend's native locking removes.
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = local.state_objects
    }
  }

  dynamic "statement" {
    for_each = var.state_kms_key_arn == null ? [] : [1]

    content {
      sid       = "StateKms"
      actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
      resources = [var.state_kms_key_arn]
    }
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json

  lifecycle {
    precondition {
      condition     = length(var.ecr_repository_arns) + length(var.lambda_function_arns) > 0 || var.state_bucket_arn != null
      error_message = "Give the role something to deploy: ecr_repository_arns, lambda_function_arns or state_bucket_arn."
    }
  }
}
