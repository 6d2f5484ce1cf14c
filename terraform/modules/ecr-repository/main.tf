# An ECR repository for one app's images, or shared by several apps with per-app tag prefixes:
# tags can never be moved (a deployed digest stays what was reviewed), every push is scanned,
# layers are KMS-encrypted, and old builds expire, never a rollback target.

locals {
  # The same document as action_scripts/ecr_lifecycle.py (which ecr-push applies to repositories
  # it creates; docs/ecr-tag-scheme.md), so a repository behaves the same whoever created it.
  # ECR applies the lowest priority number first, and an image matched by a rule can no longer be
  # expired by a later rule: the protected prefixes come first, each with a count no repository
  # reaches, so they shield rollback targets from the expiring rules below.
  protected_rules = [
    for index, prefix in var.protected_tag_prefixes : {
      rulePriority = index + 1
      description  = "Keep images tagged ${prefix}* (rollback targets)"
      selection = {
        tagStatus      = "tagged"
        tagPatternList = ["${prefix}*"]
        countType      = "imageCountMoreThan"
        countNumber    = 100000
      }
      action = { type = "expire" }
    }
  ]

  default_lifecycle_policy = jsonencode({
    rules = concat(local.protected_rules, [
      {
        rulePriority = 10
        description  = "Expire untagged images after ${var.untagged_expire_days} day(s)"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_expire_days
        }
        action = { type = "expire" }
      },
    ], local.build_rules)
  })

  # One repository per app: builds are tagged `src-<hash>`. A repository shared by several apps
  # (`apps`): each app's builds are tagged `<app>-src-<hash>` (and `<app>-<commit-sha>`), and each
  # app keeps its own newest `keep_src_images`, so a busy app cannot expire a quiet app's builds.
  # Rollback targets (`lambda-<function>-<version>`) stay protected by the rules above for every
  # app, since function names are unique in an account and region.
  build_rules = length(var.apps) == 0 ? [
    {
      rulePriority = 20
      description  = "Keep the newest ${var.keep_src_images} builds"
      selection = {
        tagStatus      = "tagged"
        tagPatternList = ["src-*"]
        countType      = "imageCountMoreThan"
        countNumber    = var.keep_src_images
      }
      action = { type = "expire" }
    }
    ] : [
    for index, app in var.apps : {
      rulePriority = 20 + index
      description  = "Keep the newest ${var.keep_src_images} builds of ${app}"
      selection = {
        tagStatus      = "tagged"
        tagPatternList = ["${app}-src-*"]
        countType      = "imageCountMoreThan"
        countNumber    = var.keep_src_images
      }
      action = { type = "expire" }
    }
  ]
}

resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete
  tags                 = var.tags

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy     = coalesce(var.lifecycle_policy, local.default_lifecycle_policy)
}
