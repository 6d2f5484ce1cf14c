# The S3 bucket that holds Terraform state: versioned (every state ever written can be restored),
# KMS-encrypted, private, TLS-only, with ACLs disabled. Locking uses the S3 backend's native
# lock file (`use_lockfile = true`), so no DynamoDB table is needed (DynamoDB locking is
# deprecated upstream).

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_144:State is small and versioned in one region; a cross-region copy adds a second bucket and role to keep in step for a single-region app. Use the data-bucket module's replication pattern if regional loss must be survived.
  #checkov:skip=CKV_AWS_18:Server access logs would need a log bucket of their own; this module does not log object access, so enable CloudTrail S3 data events for this bucket in the account trail where state reads must be audited.
  #checkov:skip=CKV2_AWS_62:Nothing consumes state-object events; Terraform reads state only when it runs.
  #checkov:skip=CKV2_AWS_61:State versions are never expired on purpose: they are kilobytes each and the only way back to an earlier state.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyStateDeletion"
    effect    = "Deny"
    actions   = ["s3:DeleteObjectVersion", "s3:PutBucketVersioning"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    # Old state versions are the recovery path; only an administrator session may remove them.
    condition {
      test     = "StringNotLike"
      variable = "aws:PrincipalArn"
      values   = var.administrator_role_arns
    }
  }

  statement {
    sid    = "DenyPolicyAndLifecycleChanges"
    effect = "Deny"
    # A lifecycle rule could expire old state versions, and a new bucket policy could drop the
    # statements above: both are as destructive as deleting versions. s3:PutLifecycleConfiguration
    # also covers DeleteBucketLifecycle.
    actions   = ["s3:PutLifecycleConfiguration", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"]
    resources = [aws_s3_bucket.state.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotLike"
      variable = "aws:PrincipalArn"
      values   = var.administrator_role_arns
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket     = aws_s3_bucket.state.id
  policy     = data.aws_iam_policy_document.state.json
  depends_on = [aws_s3_bucket_public_access_block.state]
}
