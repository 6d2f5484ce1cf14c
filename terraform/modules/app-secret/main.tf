# A Secrets Manager secret that rotates on a schedule through a rotation function. The module
# writes only a placeholder (never a secret): real values come from the rotation function or an
# operator's put-secret-value, so no secret reaches Terraform state or plan output.

locals {
  # "arn:aws:lambda:region:account:function:name[:qualifier]" -> name, for the invoke permission.
  rotation_function_name = split(":", var.rotation_lambda_arn)[6]
}

resource "aws_secretsmanager_secret" "this" {
  name                    = var.name
  description             = var.description
  kms_key_id              = var.kms_key_arn
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
