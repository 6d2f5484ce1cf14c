# The app repository's own Terraform in the rehearsal's terraform scenario (terraform/ in the
# app repo): reviewed on a pull request, applied on merge by the rendered terraform.yml.
# Small on purpose: one bucket the app could export to, tagged like the rest of the stack.

resource "aws_s3_bucket" "exports" {
  bucket        = "${var.name}-exports"
  force_destroy = true
}

resource "aws_s3_bucket_versioning" "exports" {
  bucket = aws_s3_bucket.exports.id

  versioning_configuration {
    status = "Enabled"
  }
}
