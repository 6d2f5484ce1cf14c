"""``factory status``: what is live, for an operator at a terminal (or ``--json`` for scripts).

Per function and alias: the live version, the image digest and git SHA it runs, when and by
which run it was deployed, the version that was live before, the canary weight while a canary
is in flight, and for every retained version whether its image still exists in ECR (a version
whose image is gone cannot be rolled back to). Everything is read, nothing is changed: Lambda
(versions, aliases and the descriptions lambda-deploy writes), ECR (``DescribeImages`` by
digest) and, with a token, the repository's GitHub Deployments.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

import botocore.exceptions

from action_scripts import aws, lambda_api, lambda_image, validate

ORDER_KEY = re.compile(r"\d+")


@dataclass
class VersionState:
    version: str
    digest: str
    sha: str
    run: str
    deployed_at: str
    image_uri: str
    image_in_ecr: bool | None  # None: not an ECR image, or ECR could not be asked
    aliases: list[str] = field(default_factory=list)


@dataclass
class AliasState:
    name: str
    version: str
    previous: str
    canary_version: str
    canary_weight: float
    sha: str
    digest: str
    deployed_at: str
    run: str


@dataclass
class GithubDeployment:
    environment: str
    sha: str
    state: str
    created_at: str
    log_url: str


@dataclass
class FunctionState:
    function: str
    region: str
    aliases: list[AliasState]
    versions: list[VersionState]
    github: list[GithubDeployment] = field(default_factory=list)


class StatusError(Exception):
    """A status question that cannot be answered (bad flag, missing function, no access)."""


def _image_exists(ecr: Any, uri: str, cache: dict[str, bool | None]) -> bool | None:
    if uri in cache:
        return cache[uri]
    ref = lambda_image.parse(uri)
    digest = lambda_image.digest_of(uri)
    found: bool | None = None
    if ref is not None and digest:
        try:
            ecr.describe_images(
                registryId=ref.account, repositoryName=ref.repository,
                imageIds=[{"imageDigest": f"sha256:{digest}"}],
            )
            found = True
        except botocore.exceptions.ClientError as exc:
            found = False if aws.error_code(exc) in {
                "ImageNotFoundException", "RepositoryNotFoundException"} else None
    cache[uri] = found
    return found


def function_state(lam: Any, ecr: Any, function: str, region: str) -> FunctionState:
    try:
        published = [v for v in lambda_api.list_versions(lam, function)
                     if v["Version"] != "$LATEST"]
        aliases = lambda_api.list_aliases(lam, function)
    except botocore.exceptions.ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            raise StatusError(f"function `{function}` was not found in {region}") from exc
        raise StatusError(f"could not read `{function}`: {exc}") from exc
    images: dict[str, bool | None] = {}
    versions: dict[str, VersionState] = {}
    for item in sorted(published, key=lambda v: int(v["Version"])):
        fields = lambda_api.parse_description(str(item.get("Description", "")))
        uri = lambda_api.version_image_uri(lam, function, item["Version"])
        digest = lambda_image.digest_of(uri) or fields.get("digest", "").removeprefix("sha256:")
        versions[item["Version"]] = VersionState(
            version=item["Version"], digest=digest, sha=fields.get("sha", ""),
            run=fields.get("run", ""), deployed_at=str(item.get("LastModified", "")),
            image_uri=uri, image_in_ecr=_image_exists(ecr, uri, images),
        )
    alias_states = []
    for alias in sorted(aliases, key=lambda a: str(a["Name"])):
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        canary_version, canary_weight = next(iter(weights.items()), ("", 0.0))
        live = versions.get(str(alias["FunctionVersion"]))
        fields = lambda_api.parse_description(str(alias.get("Description", "")))
        for number in {str(alias["FunctionVersion"]), *weights}:
            if number in versions:
                versions[number].aliases.append(str(alias["Name"]))
        alias_states.append(AliasState(
            name=str(alias["Name"]), version=str(alias["FunctionVersion"]),
            previous=fields.get("previous", ""), canary_version=str(canary_version),
            canary_weight=float(canary_weight),
            sha=live.sha if live else "", digest=live.digest if live else "",
            deployed_at=live.deployed_at if live else "", run=fields.get("run", "")
            or (live.run if live else ""),
        ))
    return FunctionState(function=function, region=region, aliases=alias_states,
                         versions=list(versions.values()))


def github_deployments(*, token: str, repository: str, api_url: str,
                       limit: int = 5) -> list[GithubDeployment]:
    """The latest GitHub Deployments of the repository with their latest status."""
    from github import Auth, Github

    client = Github(base_url=api_url, auth=Auth.Token(token), retry=2, timeout=15, lazy=True)
    found = []
    deployment: Any
    for deployment in client.get_repo(repository).get_deployments()[:limit]:
        statuses = list(deployment.get_statuses()[:1])
        latest = statuses[0] if statuses else None
        found.append(GithubDeployment(
            environment=str(deployment.environment), sha=str(deployment.sha),
            state=str(latest.state) if latest else "pending",
            created_at=deployment.created_at.isoformat() if deployment.created_at else "",
            log_url=str(getattr(latest, "log_url", "") or getattr(latest, "target_url", "") or ""),
        ))
    return found


def _short(value: str, width: int = 12) -> str:
    return value[:width] if value else "-"


def render(states: list[FunctionState]) -> str:
    """A readable report: one block per function, a table of aliases and one of versions."""
    out: list[str] = []
    for state in states:
        out.append(f"{state.function} ({state.region})")
        if not state.aliases:
            out.append("  no aliases: nothing takes traffic through an alias yet")
        for alias in state.aliases:
            canary = (f", canary: {alias.canary_weight:.0%} on version {alias.canary_version}"
                      if alias.canary_version else "")
            out.append(
                f"  alias {alias.name} -> version {alias.version}{canary}; sha "
                f"{_short(alias.sha)}, image sha256:{_short(alias.digest)}, deployed "
                f"{alias.deployed_at or '-'}, previous version {alias.previous or '-'}"
            )
            if alias.run:
                out.append(f"    by {alias.run}")
        out.append("  version  sha           image                in ECR  aliases")
        for version in reversed(state.versions):
            ecr = {True: "yes", False: "GONE", None: "?"}[version.image_in_ecr]
            out.append(
                f"  {version.version:<7}  {_short(version.sha):<12}  "
                f"sha256:{_short(version.digest):<12}  {ecr:<6}  {','.join(version.aliases) or '-'}"
            )
        gone = [v.version for v in state.versions if v.image_in_ecr is False]
        if gone:
            out.append(f"  ! versions {', '.join(gone)} have no image in ECR: not rollback targets")
        for deployment in state.github:
            out.append(f"  GitHub deployment {deployment.environment} {_short(deployment.sha)} "
                       f"{deployment.state} {deployment.created_at} {deployment.log_url}".rstrip())
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="factory status", description="Show what is live: aliases, versions, images, runs.")
    parser.add_argument("--function", action="append", default=[], metavar="NAME",
                        help="a Lambda function name or ARN (repeatable)")
    parser.add_argument("--region", default=None,
                        help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--repository", default=os.environ.get("GITHUB_REPOSITORY", ""),
                        metavar="OWNER/REPO",
                        help="also list GitHub Deployments (needs GITHUB_TOKEN in the environment)")
    args = parser.parse_args(argv)
    if not args.function:
        parser.error("--function is required (the function to report on)")
    for function in args.function:
        if not validate.LAMBDA_FUNCTION.fullmatch(function):
            parser.error(f"--function {function!r}: expected {validate.LAMBDA_FUNCTION_EXPECTED}")
    if args.region and not validate.REGION.fullmatch(args.region):
        parser.error(f"--region {args.region!r}: expected {validate.REGION_EXPECTED}")
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        parser.error("no AWS region: pass --region or set AWS_REGION")
    token = os.environ.get("GITHUB_TOKEN", "")
    try:
        lam, ecr = aws.client("lambda", region=region), aws.client("ecr", region=region)
        states = [function_state(lam, ecr, f, region) for f in args.function]
        if args.repository and token:
            api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
            deployments = github_deployments(token=token, repository=args.repository,
                                             api_url=api)
            for state in states:
                state.github = deployments
    except StatusError as exc:
        print(f"factory status: {exc}", file=sys.stderr)
        return 1
    except botocore.exceptions.EndpointConnectionError as exc:
        print(f"factory status: cannot reach the AWS endpoint {exc.kwargs.get('endpoint_url')}"
              " (check AWS_ENDPOINT_URL, the region and your network)", file=sys.stderr)
        return 1
    except botocore.exceptions.NoCredentialsError:
        print("factory status: no AWS credentials (set AWS_PROFILE or log in)", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(s) for s in states], indent=2))
    else:
        sys.stdout.write(render(states))
    return 0
