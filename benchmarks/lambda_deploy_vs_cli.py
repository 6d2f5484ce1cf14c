"""Time lambda-deploy against the equivalent aws-CLI sequence on the same moto server.

The CLI sequence is what a hand-written deploy step does: ``update-function-code``,
``wait function-updated``, ``publish-version``, ``update-alias``. lambda-deploy does more (input
validation, ECR digest check, idempotency check, RevisionId guards, CodeSha256 check, smoke
invoke, retention, summary), so the ratio is the price of those checks. Both run as subprocesses,
as a workflow step would, each round deploying a new image so neither is ever a no-op.

    .venv/bin/python benchmarks/lambda_deploy_vs_cli.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from factory_bench.stack import Bench  # noqa: E402


def put_image(ecr: Any, repository: str, tag: str) -> str:
    layer = hashlib.sha256(f"{repository}/{tag}".encode()).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": f"sha256:{hashlib.sha256(tag.encode()).hexdigest()}"},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 2,
                    "digest": f"sha256:{layer}"}],
    })
    image = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
    return str(image["image"]["imageId"]["imageDigest"])


def seed(bench: Bench, name: str, images: int) -> list[str]:
    """A repository with ``images`` images and an image function with alias live → v1."""
    ecr, lam = bench.admin_client("ecr"), bench.admin_client("lambda")
    uri = ecr.create_repository(repositoryName=name)["repository"]["repositoryUri"]
    uris = [f"{uri}@{put_image(ecr, name, f'v{i}')}" for i in range(images)]
    role = bench.admin_client("iam").create_role(
        RoleName=f"{name}-exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName=name, Role=role, PackageType="Image",
                        Code={"ImageUri": uris[0]})
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    return uris


def run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed:\n{done.stdout[-2000:]}{done.stderr}")
    return done.stdout


def deploy_with_action(function: str, uri: str, env: dict[str, str]) -> float:
    inputs = {"INPUT_FUNCTION_NAME": function, "INPUT_IMAGE_URI": uri,
              "INPUT_SMOKE_PAYLOAD": "{}", "INPUT_KEEP_VERSIONS": "0"}
    started = time.perf_counter()
    run([sys.executable, "-m", "action_scripts", "lambda-deploy"], {**env, **inputs})
    return time.perf_counter() - started


def deploy_with_cli(function: str, uri: str, env: dict[str, str]) -> float:
    aws = str(Path(sys.executable).parent / "aws")
    started = time.perf_counter()
    run([aws, "lambda", "update-function-code", "--function-name", function,
         "--image-uri", uri], env)
    run([aws, "lambda", "wait", "function-updated", "--function-name", function], env)
    version = json.loads(run([aws, "lambda", "publish-version", "--function-name", function],
                             env))["Version"]
    run([aws, "lambda", "update-alias", "--function-name", function, "--name", "live",
         "--function-version", version], env)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, Bench(Path(work)) as bench:
        env = {**os.environ, **bench.admin_env(), "PYTHONPATH": str(ROOT)}
        env.pop("GITHUB_OUTPUT", None)
        env.pop("GITHUB_STEP_SUMMARY", None)
        action_uris = seed(bench, "bench-action", args.rounds + 1)
        cli_uris = seed(bench, "bench-cli", args.rounds + 1)
        action_times, cli_times = [], []
        for index in range(1, args.rounds + 1):  # alternate, so drift hits both alike
            action_times.append(deploy_with_action("bench-action", action_uris[index], env))
            cli_times.append(deploy_with_cli("bench-cli", cli_uris[index], env))
        lam = bench.admin_client("lambda")
        for name in ("bench-action", "bench-cli"):
            live = lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
            assert live == str(args.rounds + 1), (name, live)  # both really deployed each round
    action, cli = statistics.median(action_times), statistics.median(cli_times)
    print(f"rounds: {args.rounds} (median seconds per deploy, subprocesses, same moto server)")
    print(f"lambda-deploy:                         {action:.2f}s  "
          f"({', '.join(f'{t:.2f}' for t in action_times)})")
    print(f"aws CLI (update/wait/publish/alias):   {cli:.2f}s  "
          f"({', '.join(f'{t:.2f}' for t in cli_times)})")
    print(f"ratio lambda-deploy / CLI: {action / cli:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
