variable "create_provider" {
  description = "Create the account's IAM OIDC provider for GitHub. An account holds one per issuer: set false in every stack but one and pass `provider_arn`."
  type        = bool
  default     = true
}

variable "provider_arn" {
  description = "ARN of an existing GitHub OIDC provider, used when `create_provider` is false."
  type        = string
  default     = null

  validation {
    condition     = var.provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::\\d{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.provider_arn))
    error_message = "provider_arn must be an IAM OIDC provider ARN for token.actions.githubusercontent.com."
  }
}

variable "audience" {
  description = "Audience (`aud`) the tokens must carry; the oidc-login action requests `sts.amazonaws.com`."
  type        = string
  default     = "sts.amazonaws.com"

  validation {
    condition     = length(var.audience) > 0 && !can(regex("[*?]", var.audience))
    error_message = "audience must be a non-empty exact value (no wildcards)."
  }
}

variable "role_name" {
  description = "Name of the deploy role, e.g. `hoopstat-stats-api-deploy`."
  type        = string

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 characters from letters, digits and '+=,.@_-'."
  }
}

variable "repositories" {
  description = "GitHub repositories (`owner/name`) allowed to assume the role."
  type        = list(string)

  validation {
    condition     = length(var.repositories) > 0 && alltrue([for r in var.repositories : can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", r))])
    error_message = "repositories must be a non-empty list of 'owner/name' without wildcards."
  }
}

variable "branches" {
  description = "Branches whose workflow runs may assume the role (pinned as `ref:refs/heads/<branch>`). Jobs that use a GitHub environment carry the environment in `sub` instead: list those in `environments`."
  type        = list(string)
  default     = ["main"]

  validation {
    condition     = alltrue([for b in var.branches : can(regex("^[A-Za-z0-9_./-]+$", b))])
    error_message = "branches must be exact branch names (no wildcards)."
  }
}

variable "environments" {
  description = "GitHub environments whose jobs may assume the deploy role (pinned as `environment:<name>`). GitHub puts the environment in `sub` for a job on any branch that names it, so each listed environment must have a deployment-branch policy (e.g. `main` only) in the repository's settings, or any branch could deploy."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.environments : can(regex("^[A-Za-z0-9_.-]+$", e))])
    error_message = "environments must be exact environment names (no wildcards)."
  }
}

variable "max_session_duration" {
  description = "Longest session, in seconds, that oidc-login may request (`role-duration-seconds`)."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "ecr_repository_arns" {
  description = "ECR repositories the deploy role may push to, read, and remove rollback tags from."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.ecr_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\\d{12}:repository/[a-z0-9._/-]+$", arn))])
    error_message = "ecr_repository_arns takes ECR repository ARNs without wildcards."
  }
}

variable "lambda_function_arns" {
  description = "Lambda functions the deploy role may update, publish and re-point the aliases of (unqualified ARNs)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.lambda_function_arns : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\\d{12}:function:[A-Za-z0-9_-]+$", arn))])
    error_message = "lambda_function_arns takes unqualified Lambda function ARNs without wildcards."
  }
}

variable "state_bucket_arn" {
  description = "ARN of the Terraform state bucket; null grants no state access."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket_arn == null || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]{3,63}$", var.state_bucket_arn))
    error_message = "state_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::<bucket>)."
  }
}

variable "state_key_prefix" {
  description = "Key prefix in the state bucket the roles may use (the deploy role reads and writes its state objects and `.tflock` lock files; the plan role reads them and writes only the lock), e.g. `stats-api/`. Required with `state_bucket_arn`: an empty prefix would reach every app's state."
  type        = string
  default     = null

  validation {
    condition     = var.state_key_prefix == null || can(regex("^[A-Za-z0-9!_.'()-]+(/[A-Za-z0-9!_.'()-]+)*/$", var.state_key_prefix))
    error_message = "state_key_prefix must be a non-empty key prefix ending in '/', without wildcards, e.g. \"stats-api/\"."
  }
}

variable "state_kms_key_arn" {
  description = "ARN of the KMS key encrypting the state bucket, if it is a customer managed key; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.state_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]+$", var.state_kms_key_arn))
    error_message = "state_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "tags" {
  description = "Tags for the roles and the provider, on top of the provider's default_tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 50
    error_message = "IAM takes at most 50 tags per resource."
  }
}

variable "break_glass_principal_arns" {
  description = "IAM role ARNs of humans (e.g. an SSO admin role) allowed to assume the deploy role directly when GitHub OIDC is down, from a session with MFA (`aws:MultiFactorAuthPresent`; see docs/runbooks/break-glass-oidc.md). Empty: OIDC only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.break_glass_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "break_glass_principal_arns takes IAM role ARNs (arn:aws:iam::<account>:role/<name>), never users or wildcards."
  }
}

variable "create_plan_role" {
  description = "Create the read-only plan role that the repositories' `pull_request` jobs assume for `terraform plan`."
  type        = bool
  default     = true
}

variable "plan_role_name" {
  description = "Name of the plan role. null names it `<role_name>-plan`."
  type        = string
  default     = null

  validation {
    condition     = var.plan_role_name == null || can(regex("^[\\w+=,.@-]{1,64}$", var.plan_role_name))
    error_message = "plan_role_name must be 1-64 characters from letters, digits and '+=,.@_-'."
  }
}

variable "plan_read_actions" {
  description = "Actions the plan role may call on any resource: the configuration reads `terraform plan` makes to refresh the stack. Keep it to Describe/List/Get-configuration calls: nothing that returns stored data (s3:GetObject, secretsmanager:GetSecretValue, kms:Decrypt, logs:GetLogEvents) and nothing that writes."
  type        = list(string)
  default = [
    "budgets:Describe*",
    "budgets:ListTagsForResource",
    "budgets:ViewBudget",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetTrail",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:ListTags",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:ListTagsForResource",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:GetLifecyclePolicy",
    "ecr:GetRepositoryPolicy",
    "ecr:ListTagsForResource",
    "iam:GetOpenIDConnectProvider",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListOpenIDConnectProviders",
    "iam:ListRolePolicies",
    "iam:ListRoleTags",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListResourceTags",
    "lambda:GetAlias",
    "lambda:GetFunction",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:GetFunctionConcurrency",
    "lambda:GetFunctionConfiguration",
    "lambda:GetFunctionEventInvokeConfig",
    "lambda:GetFunctionUrlConfig",
    "lambda:GetPolicy",
    "lambda:ListAliases",
    "lambda:ListTags",
    "lambda:ListVersionsByFunction",
    "logs:DescribeLogGroups",
    "logs:ListTagsForResource",
    "logs:ListTagsLogGroup",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketNotification",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "sns:GetSubscriptionAttributes",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ListQueueTags",
    "sts:GetCallerIdentity",
  ]

  validation {
    condition = length(var.plan_read_actions) > 0 && alltrue([
      for a in var.plan_read_actions :
      can(regex("^[a-z0-9-]+:(Describe|List|Get|View)[A-Za-z*]*$", a)) && !contains([
        "s3:GetObject", "s3:GetObjectVersion", "secretsmanager:GetSecretValue", "kms:Decrypt",
        "logs:GetLogEvents", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
      ], a) && !can(regex("^(s3:GetObject|secretsmanager:Get\\*|ssm:GetParameter|kms:Get\\*|logs:Get)", a))
    ])
    error_message = "plan_read_actions may only hold Describe/List/Get/View actions that do not return stored data (no s3:GetObject*, secret values, SSM parameters, KMS decryption or log events)."
  }
}

variable "subject_claim_keys" {
  description = "The repository's OIDC subject customization template (`include_claim_keys`, in order), when one is set: e.g. `[\"repository_owner_id\", \"repository_id\", \"context\", \"job_workflow_ref\"]`. null: GitHub's default subject (`repo:<owner>/<repo>:<context>`). The roles' `sub` values are built in the same format, so set the template on the repository (PUT /repos/{owner}/{repo}/actions/oidc/customization/sub) together with this."
  type        = list(string)
  default     = null

  validation {
    condition = var.subject_claim_keys == null || (
      try(length(var.subject_claim_keys) == length(distinct(var.subject_claim_keys)), false)
      && try(alltrue([for k in var.subject_claim_keys : contains(["repo", "repository_owner", "repository_owner_id", "repository_id", "context", "job_workflow_ref"], k)]), false)
      && try(contains(var.subject_claim_keys, "context"), false)
      && try(contains(var.subject_claim_keys, "repo") || contains(var.subject_claim_keys, "repository_id"), false)
    )
    error_message = "subject_claim_keys must be distinct keys from repo, repository_owner, repository_owner_id, repository_id, context, job_workflow_ref, and include context (it is what separates a pull request from a deploy) and repo or repository_id (it names the repository)."
  }
}

variable "immutable_subjects" {
  description = "The repositories use GitHub's immutable subject format, where the `repo` claim reads `<owner>@<owner-id>/<repo>@<repo-id>` (the default for repositories created from mid-July 2026, opt-in for older ones). Needs `repository_ids` and `repository_owner_ids`."
  type        = bool
  default     = false
}

variable "repository_ids" {
  description = "Numeric GitHub id of each repository (`owner/name` => id, from GET /repos/{owner}/{repo} `.id`). Used when `subject_claim_keys` holds `repository_id` or `immutable_subjects` is true: a deleted and re-created repository of the same name gets a new id and is not trusted."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for id in values(var.repository_ids) : can(regex("^[0-9]+$", id))])
    error_message = "repository_ids values must be numeric GitHub repository ids."
  }
}

variable "repository_owner_ids" {
  description = "Numeric GitHub id of each repository owner (`owner` => id). Used when `subject_claim_keys` holds `repository_owner_id` or `immutable_subjects` is true."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for id in values(var.repository_owner_ids) : can(regex("^[0-9]+$", id))])
    error_message = "repository_owner_ids values must be numeric GitHub owner ids."
  }
}

variable "deploy_workflow_refs" {
  description = "With `job_workflow_ref` in `subject_claim_keys`: the reusable workflows (at pinned refs) whose jobs may assume the deploy role, as GitHub writes the claim: `<owner>/<repo>/.github/workflows/<file>@<ref>`, e.g. `hoopstat-haus/hoopstat-factory/.github/workflows/deploy-lambda-app.yml@<release-sha>` (or `@<commit-sha>` when callers pin a SHA)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for w in var.deploy_workflow_refs : can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/\\.github/workflows/[A-Za-z0-9_.-]+\\.ya?ml@[A-Za-z0-9_./-]+$", w))])
    error_message = "deploy_workflow_refs must be exact `<owner>/<repo>/.github/workflows/<file>.yml@<ref>` values (no wildcards)."
  }
}

variable "plan_workflow_refs" {
  description = "With `job_workflow_ref` in `subject_claim_keys`: the reusable workflows (at pinned refs) whose pull_request jobs may assume the plan role, e.g. `hoopstat-haus/hoopstat-factory/.github/workflows/terraform.yml@<release-sha>`."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for w in var.plan_workflow_refs : can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/\\.github/workflows/[A-Za-z0-9_.-]+\\.ya?ml@[A-Za-z0-9_./-]+$", w))])
    error_message = "plan_workflow_refs must be exact `<owner>/<repo>/.github/workflows/<file>.yml@<ref>` values (no wildcards)."
  }
}

variable "protected_alias_names" {
  description = "Aliases that serve traffic: the deploy role may move them but never invoke them (it smoke-tests the new version by number)."
  type        = list(string)
  default     = ["live"]

  validation {
    condition     = alltrue([for a in var.protected_alias_names : can(regex("^[A-Za-z0-9_-]{1,128}$", a)) && !can(regex("^[0-9]+$", a))])
    error_message = "protected_alias_names must be alias names (letters, digits, '-', '_'; not all digits)."
  }
}

variable "alarm_arns" {
  description = "CloudWatch alarm ARNs the deploy role may read during canary/linear shifts, beyond the functions' own `<function>-*` alarms in each function's region (which are always readable)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.alarm_arns : can(regex("^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\\d{12}:alarm:.+$", arn))])
    error_message = "alarm_arns must be CloudWatch alarm ARNs in a named region and account."
  }
}
