terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
      # aws.replica holds the backup copy; point it at another region so a regional outage or
      # a deleted primary bucket does not take the backup with it.
      configuration_aliases = [aws.replica]
    }
  }
}
