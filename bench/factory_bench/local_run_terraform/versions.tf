# Applied by `factory-bench local-run` (bench/factory_bench/local_run.py) on the bench: the suite modules
# for the deploy role, the image repository and the function; a plain bucket and secret for the
# app's data. Applied against moto, destroyed with the bench.

terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}
