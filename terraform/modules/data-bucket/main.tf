# A versioned, encrypted, private data bucket whose every object version is replicated to a
# backup bucket in another region (see docs/adr/0004-s3-bucket-organisation.md for why
# replication rather than AWS Backup).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "replica" {
  provider = aws.replica
}

locals {
  backup_bucket_name = "${var.bucket_name}-backup"
  partition          = data.aws_partition.current.partition
  account_id         = data.aws_caller_identity.current.account_id
  # The AWS managed key is addressed by alias in the replica region when no CMK is given.
  replica_kms_key_id = coalesce(
    var.replica_kms_key_arn,
    "arn:${local.partition}:kms:${data.aws_region.replica.name}:${local.account_id}:alias/aws/s3",
  )
}

# ---------------------------------------------------------------------------------------------
# The data bucket
# ---------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_18:Server access logs would need a log bucket of their own (which would itself need logging). This module does not record object access at all: enable CloudTrail S3 data events for this bucket in the account's trail where reads and writes must be audited.
  #checkov:skip=CKV2_AWS_62:No consumer of object events exists yet; notifications are added where a pipeline subscribes, not by default.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    # ACLs off: access is decided by IAM and the bucket policy only.
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # One data key per bucket instead of per object: cuts KMS request charges by ~99%.
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "data_tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]

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
}

resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.data_tls_only.json

  # A policy written before the public access block could be judged public and rejected.
  depends_on = [aws_s3_bucket_public_access_block.data]
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    id     = "default"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }

    dynamic "transition" {
      for_each = var.intelligent_tiering_after_days == null ? [] : [var.intelligent_tiering_after_days]

      content {
        days          = transition.value
        storage_class = "INTELLIGENT_TIERING"
      }
    }
  }

  # Lifecycle rules on a bucket without versioning would expire data instead of versions.
  depends_on = [aws_s3_bucket_versioning.data]
}

# ---------------------------------------------------------------------------------------------
# The backup bucket, in the replica region
# ---------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "backup" {
  #checkov:skip=CKV_AWS_144:This bucket is the cross-region replica; replicating the replica again would only double storage cost.
  #checkov:skip=CKV_AWS_18:Server access logs would need a log bucket of their own; this replica is written only by replication, and object access is not recorded unless the account's trail enables S3 data events for it.
  #checkov:skip=CKV2_AWS_62:The backup bucket is written only by replication; nothing consumes its object events.
  provider      = aws.replica
  bucket        = local.backup_bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "backup" {
  provider = aws.replica
  bucket   = aws_s3_bucket.backup.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "backup" {
  provider                = aws.replica
  bucket                  = aws_s3_bucket.backup.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "backup" {
  provider = aws.replica
  bucket   = aws_s3_bucket.backup.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backup" {
  provider = aws.replica
  bucket   = aws_s3_bucket.backup.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.replica_kms_key_arn
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "backup_tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.backup.arn, "${aws_s3_bucket.backup.arn}/*"]

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
}

resource "aws_s3_bucket_policy" "backup" {
  provider   = aws.replica
  bucket     = aws_s3_bucket.backup.id
  policy     = data.aws_iam_policy_document.backup_tls_only.json
  depends_on = [aws_s3_bucket_public_access_block.backup]
}

resource "aws_s3_bucket_lifecycle_configuration" "backup" {
  provider = aws.replica
  bucket   = aws_s3_bucket.backup.id

  rule {
    id     = "default"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.backup_noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.backup]
}

# ---------------------------------------------------------------------------------------------
# Replication: every new object version (not deletes) is copied to the backup bucket
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "replication_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "replication" {
  name_prefix        = substr("${var.bucket_name}-repl-", 0, 38)
  description        = "S3 replication from ${var.bucket_name} to ${local.backup_bucket_name}"
  assume_role_policy = data.aws_iam_policy_document.replication_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "replication" {
  statement {
    sid       = "ReadSourceConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
  }

  statement {
    sid = "ReadSourceVersions"
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = ["${aws_s3_bucket.data.arn}/*"]
  }

  statement {
    sid = "WriteReplicas"
    # No s3:ReplicateDelete: deleting in the data bucket must not delete the backup.
    actions   = ["s3:ReplicateObject", "s3:ReplicateTags"]
    resources = ["${aws_s3_bucket.backup.arn}/*"]
  }

  statement {
    sid       = "DecryptSource"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = ["${aws_s3_bucket.data.arn}/*"]
    }
  }

  statement {
    sid       = "EncryptReplica"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = ["${aws_s3_bucket.backup.arn}/*"]
    }
  }
}

resource "aws_iam_role_policy" "replication" {
  name   = "replicate-to-backup"
  role   = aws_iam_role.replication.id
  policy = data.aws_iam_policy_document.replication.json
}

resource "aws_s3_bucket_replication_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  role   = aws_iam_role.replication.arn

  rule {
    id     = "backup"
    status = "Enabled"

    filter {}

    delete_marker_replication {
      status = "Disabled"
    }

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket        = aws_s3_bucket.backup.arn
      storage_class = "STANDARD_IA"

      encryption_configuration {
        replica_kms_key_id = local.replica_kms_key_id
      }
    }
  }

  # S3 refuses replication until versioning is on at both ends.
  depends_on = [aws_s3_bucket_versioning.data, aws_s3_bucket_versioning.backup]
}
