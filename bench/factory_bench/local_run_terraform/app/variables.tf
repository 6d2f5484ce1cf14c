variable "name" {
  description = "Prefix of every resource (the app's name)."
  type        = string
}
