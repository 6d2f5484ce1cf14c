# GitHub's OIDC identity provider and two roles for the named repositories:
#
# - the deploy role, which only the listed branches or GitHub environments can assume: it pushes
#   the app's images, rolls out its Lambda functions, and reads/writes the app's own key prefix of
#   the Terraform state (apply and drift run on it);
# - the plan role, which only the repositories' `pull_request` jobs can assume: it reads the
#   stack's configuration and state and may write nothing but the state lock file. A pull
#   request's Terraform plan runs the PR's code, so that code must never hold the deploy role.

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition    = data.aws_partition.current.partition
  account_id   = data.aws_caller_identity.current.account_id
  issuer_host  = "token.actions.githubusercontent.com"
  provider_arn = var.create_provider ? aws_iam_openid_connect_provider.github[0].arn : var.provider_arn

  # GitHub's default subject is the customization template ["repo", "context"]:
  # `repo:<owner>/<repo>:<context>`, where context is `ref:refs/heads/<branch>` for a job without an
  # environment, `environment:<name>` for a job in one, and `pull_request` for a job triggered by
  # a pull request without an environment. A customized template joins each listed claim as
  # `<key>:<value>` in the template's order (GitHub docs, "Customizing the subject claims").
  claim_keys    = coalesce(var.subject_claim_keys, ["repo", "context"])
  uses_workflow = contains(local.claim_keys, "job_workflow_ref")

  owner = { for repo in var.repositories : repo => split("/", repo)[0] }
  # GitHub's immutable subject format names the repository `<owner>@<owner-id>/<repo>@<repo-id>`.
  repo_segment = {
    for repo in var.repositories : repo => (
      var.immutable_subjects
      ? "${local.owner[repo]}@${lookup(var.repository_owner_ids, local.owner[repo], "MISSING")}/${split("/", repo)[1]}@${lookup(var.repository_ids, repo, "MISSING")}"
      : repo
    )
  }
  claim_value = {
    for repo in var.repositories : repo => {
      repo                = "repo:${local.repo_segment[repo]}"
      repository_owner    = "repository_owner:${local.owner[repo]}"
      repository_owner_id = "repository_owner_id:${lookup(var.repository_owner_ids, local.owner[repo], "MISSING")}"
      repository_id       = "repository_id:${lookup(var.repository_ids, repo, "MISSING")}"
    }
  }

  deploy_contexts = concat(
    [for branch in var.branches : "ref:refs/heads/${branch}"],
    [for env in var.environments : "environment:${env}"],
  )

  # Exact values only: a wildcard here would let any branch (or a fork's pull request) deploy.
  deploy_subjects = flatten([
    for repo in var.repositories : [
      for context in local.deploy_contexts : [
        for workflow in(local.uses_workflow ? var.deploy_workflow_refs : ["-"]) : join(":", [
          for key in local.claim_keys :
          key == "context" ? context : key == "job_workflow_ref" ? "job_workflow_ref:${workflow}" : local.claim_value[repo][key]
        ])
      ]
    ]
  ])
  plan_subjects = flatten([
    for repo in var.repositories : [
      for workflow in(local.uses_workflow ? var.plan_workflow_refs : ["-"]) : join(":", [
        for key in local.claim_keys :
        key == "context" ? "pull_request" : key == "job_workflow_ref" ? "job_workflow_ref:${workflow}" : local.claim_value[repo][key]
      ])
    ]
  ])
  # The `subjects` of earlier versions: kept as the deploy role's.
  subjects = local.deploy_subjects

  missing_ids = concat(
    [for repo in var.repositories : repo if(var.immutable_subjects || contains(local.claim_keys, "repository_id")) && !contains(keys(var.repository_ids), repo)],
    [for repo in var.repositories : local.owner[repo] if(var.immutable_subjects || contains(local.claim_keys, "repository_owner_id")) && !contains(keys(var.repository_owner_ids), local.owner[repo])],
  )

  plan_role_name = coalesce(var.plan_role_name, "${var.role_name}-plan")

  state_prefix  = coalesce(var.state_key_prefix, "-")
  state_objects = var.state_bucket_arn == null ? [] : ["${var.state_bucket_arn}/${local.state_prefix}*"]
  # The S3 backend's native lock is `<key>.tflock` beside the state object.
  state_locks = var.state_bucket_arn == null ? [] : ["${var.state_bucket_arn}/${local.state_prefix}*.tflock"]

  # arn:<partition>:lambda:<region>:<account>:function:<name>
  functions = [for arn in var.lambda_function_arns : {
    arn     = arn
    region  = split(":", arn)[3]
    account = split(":", arn)[4]
    name    = split(":", arn)[6]
  }]
  # The lambda-app module names its alarms `<function>-<metric>`.
  alarm_arns = distinct(concat(
    [for f in local.functions : "arn:${local.partition}:cloudwatch:${f.region}:${f.account}:alarm:${f.name}-*"],
    var.alarm_arns,
  ))
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

# ---------------------------------------------------------------------------------------------
# Deploy role (apply, drift, image push, Lambda rollout)
# ---------------------------------------------------------------------------------------------

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
      values   = local.deploy_subjects
    }
  }

  # Break glass (docs/runbooks/break-glass-oidc.md): named human roles may assume the deploy
  # role directly while GitHub's OIDC is down, from a session that was authenticated with MFA.
  # Empty by default.
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

      # Bool (not BoolIfExists): a session without MFA context has no such key and is refused.
      condition {
        test     = "Bool"
        variable = "aws:MultiFactorAuthPresent"
        values   = ["true"]
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
      condition     = length(local.deploy_contexts) > 0
      error_message = "branches and environments are both empty: no workflow could assume the role."
    }
    precondition {
      condition     = length(local.missing_ids) == 0
      error_message = "The subject format needs ids that were not given (repository_ids / repository_owner_ids): ${join(", ", local.missing_ids)}."
    }
    precondition {
      condition     = !local.uses_workflow || (length(var.deploy_workflow_refs) > 0 && (!var.create_plan_role || length(var.plan_workflow_refs) > 0))
      error_message = "subject_claim_keys includes job_workflow_ref: set deploy_workflow_refs (and plan_workflow_refs for the plan role)."
    }
    precondition {
      condition     = var.state_bucket_arn == null || var.state_key_prefix != null
      error_message = "state_bucket_arn is set: state_key_prefix is required (e.g. \"stats-api/\"), so the role can never reach another app's state."
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
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImageScanFindings",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetDownloadUrlForLayer",
        # ecr-push checks that a shared repository's lifecycle policy keeps each app's builds.
        "ecr:GetLifecyclePolicy",
        "ecr:InitiateLayerUpload",
        "ecr:ListImages",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ]
      resources = var.ecr_repository_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) > 0 ? [1] : []

    content {
      sid = "EcrRemoveRollbackTags"
      # lambda-deploy calls this with an image tag only, to remove a pruned version's
      # `lambda-<function>-<version>` tag. IAM cannot hold it to that: ECR offers no condition key
      # on the image tag or digest of BatchDeleteImage, so this grant also deletes images by
      # digest. What bounds it is the repository list (and IMMUTABLE tags, scan findings and the
      # lifecycle policy are unaffected by it).
      actions   = ["ecr:BatchDeleteImage"]
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
        # lambda-deploy warns about grants that invoke the unqualified function ($LATEST).
        "lambda:GetPolicy",
        "lambda:ListAliases",
        "lambda:ListVersionsByFunction",
        "lambda:PublishVersion",
        "lambda:UpdateAlias",
        "lambda:UpdateFunctionCode",
        # First deploy of a function whose alias Terraform did not create.
        "lambda:CreateAlias",
      ]
      resources = flatten([for arn in var.lambda_function_arns : [arn, "${arn}:*"]])
    }
  }

  dynamic "statement" {
    for_each = length(var.lambda_function_arns) > 0 ? [1] : []

    content {
      sid = "LambdaListConsumers"
      # lambda-deploy warns about event source mappings on the unqualified function ($LATEST).
      # ListEventSourceMappings supports no resource-level permission: AWS requires "*". It is
      # read-only and returns mapping metadata, never data.
      actions   = ["lambda:ListEventSourceMappings"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.lambda_function_arns) > 0 ? [1] : []

    content {
      sid = "LambdaSmokeTest"
      # lambda-deploy invokes the version it just published (`Qualifier=<version>`) before any
      # traffic moves. Qualified ARNs only; the live aliases are denied below.
      actions   = ["lambda:InvokeFunction"]
      resources = [for arn in var.lambda_function_arns : "${arn}:*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.lambda_function_arns) > 0 && length(var.protected_alias_names) > 0 ? [1] : []

    content {
      sid    = "NoInvokeOfLiveAliases"
      effect = "Deny"
      # A deploy never needs to call production traffic's alias (or $LATEST) itself.
      actions = ["lambda:InvokeFunction"]
      resources = concat(
        var.lambda_function_arns,
        flatten([for arn in var.lambda_function_arns : [for alias in var.protected_alias_names : "${arn}:${alias}"]]),
        [for arn in var.lambda_function_arns : "${arn}:$LATEST"],
      )
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
    for_each = length(local.alarm_arns) > 0 ? [1] : []

    content {
      sid = "WatchAlarms"
      # Canary and linear deploys read the alarms named in `alarm-names` while traffic shifts:
      # the functions' own alarms (`<function>-*` in the function's region) and any listed.
      actions   = ["cloudwatch:DescribeAlarms"]
      resources = local.alarm_arns
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
        values   = ["${local.state_prefix}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.state_bucket_arn == null ? [] : [1]

    content {
      sid = "StateReadWrite"
      # Terraform apply and drift detection run on this role. DeleteObject is for the `.tflock`
      # lock file that the S3 backend's native locking removes.
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

# ---------------------------------------------------------------------------------------------
# Plan role (pull requests: terraform plan runs the PR's code with this role)
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "plan_trust" {
  statement {
    sid     = "GitHubActionsPullRequests"
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

    # Only the `pull_request` context: no branch, tag or environment job gets this role, and a
    # pull_request job can never get the deploy role (its sub differs).
    condition {
      test     = "StringEquals"
      variable = "${local.issuer_host}:sub"
      values   = local.plan_subjects
    }
  }
}

resource "aws_iam_role" "plan" {
  count = var.create_plan_role ? 1 : 0

  name                 = local.plan_role_name
  description          = "GitHub Actions pull-request plan role (read-only) for ${join(", ", var.repositories)}"
  assume_role_policy   = data.aws_iam_policy_document.plan_trust.json
  max_session_duration = 3600
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = can(regex("^[\\w+=,.@-]{1,64}$", local.plan_role_name))
      error_message = "The plan role's name (plan_role_name, or role_name + \"-plan\") must be 1-64 characters from letters, digits and '+=,.@_-'."
    }
  }
}

data "aws_iam_policy_document" "plan" {
  #checkov:skip=CKV_AWS_356:The plan role refreshes every resource of the stack, whose ARNs this module is not given; the "*" statement holds only configuration reads (validated in plan_read_actions), never data reads or writes.
  statement {
    sid = "ReadConfiguration"
    # Configuration reads that `terraform plan` makes when it refreshes the stack. None of these
    # returns stored data: no s3:GetObject (outside the state prefix), no secret values, no KMS
    # decryption, no log events, no invocations.
    actions   = var.plan_read_actions
    resources = ["*"]
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
        values   = ["${local.state_prefix}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.state_bucket_arn == null ? [] : [1]

    content {
      sid       = "StateRead"
      actions   = ["s3:GetObject"]
      resources = local.state_objects
    }
  }

  dynamic "statement" {
    for_each = var.state_bucket_arn == null ? [] : [1]

    content {
      sid = "StateLock"
      # `terraform plan` takes the S3 backend's lock: it writes and removes `<key>.tflock` only.
      actions   = ["s3:PutObject", "s3:DeleteObject"]
      resources = local.state_locks
    }
  }

  dynamic "statement" {
    for_each = var.state_kms_key_arn == null ? [] : [1]

    content {
      sid       = "StateKms"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.state_kms_key_arn]
    }
  }
}

resource "aws_iam_role_policy" "plan" {
  count = var.create_plan_role ? 1 : 0

  name   = "plan-read-only"
  role   = aws_iam_role.plan[0].id
  policy = data.aws_iam_policy_document.plan.json
}
