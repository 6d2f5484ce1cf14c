"""The test bench: real stand-ins for AWS, GitHub OIDC, the GitHub API and the Actions runner."""
