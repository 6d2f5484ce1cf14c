# A Secrets Manager secret that rotates on a schedule through a rotation function. The module
# writes only a placeholder (never a secret): real values come from the rotation function or an
# operator's put-secret-value, so no secret reaches Terraform state or plan output. A resource
# policy lets only the named readers and the rotation function read any value but the
# placeholder, whatever IAM policies elsewhere in the account grant; optionally the secret is
# encrypted with a customer managed key of its own.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # "arn:aws:lambda:region:account:function:name[:qualifier]" -> name, for the invoke permission.
  rotation_function_name = split(":", var.rotation_lambda_arn)[6]
  readers                = distinct(concat(var.reader_role_arns, [var.rotation_role_arn]))
  kms_key_arn            = var.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn
}

data "aws_iam_policy_document" "kms" {
  count = var.create_kms_key ? 1 : 0

  statement {
    sid = "AccountAdministers"
    # The account keeps control of its key (without this statement a key can become unmanageable);
    # who may use it for this secret is decided by the secret's resource policy below.
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "ReadersDecryptThroughSecretsManager"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = local.readers
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "this" {
  count = var.create_kms_key ? 1 : 0

  description             = "Encrypts the ${var.name} secret"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = var.tags
}

resource "aws_secretsmanager_secret" "this" {
  name                    = var.name
  description             = var.description
  kms_key_id              = local.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

# Rotation needs a current version to rotate from, and with rotate_immediately = false Secrets
# Manager still runs the function's testSecret step against it. Terraform writes this
# placeholder once and then ignores the value, which rotation and operators own.
resource "aws_secretsmanager_secret_version" "placeholder" {
  secret_id     = aws_secretsmanager_secret.this.id
  secret_string = jsonencode({ placeholder = "set by the rotation function or put-secret-value" })

  lifecycle {
    ignore_changes = [secret_string, version_stages]
  }
}

resource "aws_lambda_permission" "rotation" {
  statement_id  = "SecretsManagerRotation-${substr(sha1(var.name), 0, 12)}"
  action        = "lambda:InvokeFunction"
  function_name = local.rotation_function_name
  principal     = "secretsmanager.amazonaws.com"
  # Only this secret may make Secrets Manager invoke the function.
  source_arn = aws_secretsmanager_secret.this.arn
}

resource "aws_secretsmanager_secret_rotation" "this" {
  secret_id           = aws_secretsmanager_secret.this.id
  rotation_lambda_arn = var.rotation_lambda_arn
  rotate_immediately  = var.rotate_immediately

  rotation_rules {
    automatically_after_days = var.rotation_days
  }

  depends_on = [aws_lambda_permission.rotation, aws_secretsmanager_secret_version.placeholder]
}

data "aws_iam_policy_document" "secret" {
  statement {
    sid    = "OnlyReadersReadValues"
    effect = "Deny"
    # Deny beats any Allow in an identity policy. Two conditions, both must hold to deny: the
    # caller is not a reader, and the version asked for is not the placeholder. Terraform's plan
    # and apply roles refresh the placeholder version by its id, so they can read that constant
    # and nothing else; rotated and operator-written values stay with the readers.
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotLike"
      variable = "aws:PrincipalArn"
      values   = local.readers
    }

    condition {
      test     = "StringNotEquals"
      variable = "secretsmanager:VersionId"
      values   = [aws_secretsmanager_secret_version.placeholder.version_id]
    }
  }
}

resource "aws_secretsmanager_secret_policy" "this" {
  secret_arn          = aws_secretsmanager_secret.this.arn
  policy              = data.aws_iam_policy_document.secret.json
  block_public_policy = true
}
