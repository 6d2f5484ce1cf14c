"""``factory init``: write the pipeline's caller workflows into an app repo.

Renders the Jinja2 templates in ``cli/factory_cli/templates/`` (deploy on merge, rollback on
dispatch, and optionally Terraform plan/apply/drift) with the app's values, each calling the
suite's reusable workflows pinned to a release commit SHA with a ``# vX.Y.Z`` comment.

Re-running is safe. ``.github/hoopstat-factory.json`` (the manifest) records the values used
and the SHA-256 of every file as written, which tells "ours, unchanged" (rewritten freely, e.g.
to move to a new release) from "edited by the user" (never overwritten without ``--force``).
All files are checked before any is written: a refusal changes nothing. Values not given on
the command line are taken from the manifest, so upgrading is ``factory init --ref SHA
--version vX.Y.Z``.

``--new-app NAME`` first writes a new app into a new or empty directory: the template app
(``examples/hello-stats``, shipped as ``templates/app/**.j2``) renamed for NAME, recorded in the
manifest like the workflows.

``--monorepo`` (also chosen when ``apps/`` and ``libs/`` exist and ``--app`` is not given, and
kept by the manifest) writes ONE set of workflows at the repository root for every app under
``apps/``: on merge, changed-apps → a CI matrix of the affected apps → a deploy matrix of the
affected apps with deploy settings; one rollback with the deployable apps as a choice. Each app's
function, repository, tag prefix, Dockerfile, Python, installer and commands come from its own
settings (``action_scripts/app_settings.py``), read at run time by changed-apps; only the
rollback's app → function list is rendered, so re-run ``init`` after adding an app.
``.github/`` is only ever written at a repository's root: ``--dir`` naming a directory inside a
git repository is refused.

Templates use ``[[ ]]`` / ``[% %]`` delimiters so GitHub's own ``${{ }}`` passes through as is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from action_scripts import app_settings, runner, validate
from action_scripts.errors import FactoryError, InputError, InputProblem

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
RELEASE_FILE = TEMPLATE_DIR / "release.json"
MANIFEST = ".github/hoopstat-factory.json"
DEFAULT_SUITE_REPO = "hoopstat-factory"
# ``--new-app``: the template app, as Jinja sources made from examples/hello-stats by
# sync_app_template() (a test keeps the two in step). Shipped as ``*.j2`` so the package-data
# pattern already covers them, and so ruff, mypy and pytest do not mistake them for suite code.
APP_TEMPLATE_DIR = TEMPLATE_DIR / "app"


@dataclass(frozen=True)
class Template:
    source: str  # under cli/factory_cli/templates/
    target: str  # in the app repo


TEMPLATES: dict[str, Template] = {
    "deploy": Template("deploy-lambda-app.yml.j2", ".github/workflows/deploy.yml"),
    "rollback": Template("rollback-lambda-app.yml.j2", ".github/workflows/rollback.yml"),
    "terraform": Template("terraform.yml.j2", ".github/workflows/terraform.yml"),
}
# A monorepo writes the same files (and the same --template names) from its own sources.
MONOREPO_TEMPLATES: dict[str, Template] = {
    "deploy": Template("monorepo-deploy.yml.j2", ".github/workflows/deploy.yml"),
    "rollback": Template("monorepo-rollback.yml.j2", ".github/workflows/rollback.yml"),
    "terraform": TEMPLATES["terraform"],
}
LAYOUTS = {"single-app": TEMPLATES, "monorepo": MONOREPO_TEMPLATES}
DEFAULT_TEMPLATES = ("deploy", "rollback")
# Values the monorepo layout takes from each app's settings instead of flags.
PER_APP_FIELDS = frozenset({"app", "function", "ecr-repository", "context", "python-version"})

GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
GITHUB_OWNER_EXPECTED = "a GitHub organization or user name such as `hoopstat-haus`"
APP_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62})")
APP_NAME_EXPECTED = "an app name of lowercase letters, digits and `-`, e.g. `api`"
FULL_SHA = re.compile(r"[0-9a-f]{40}")
SUITE_REF = re.compile(r"[0-9a-f]{40}|v\d+(?:\.\d+){0,2}|[A-Za-z0-9][A-Za-z0-9._/-]{0,99}",
                       re.ASCII)
SUITE_REF_EXPECTED = "the release's full 40-hex commit SHA (a tag or branch only for rehearsals)"
VERSION = re.compile(r"v\d+\.\d+\.\d+", re.ASCII)
VERSION_EXPECTED = "a release version such as `v1.4.0`"
ENVIRONMENT = re.compile(r"[A-Za-z0-9_.-]{1,255}")
ENVIRONMENT_EXPECTED = "a GitHub environment name such as `production`"
BRANCH = re.compile(r"\$default-branch|[A-Za-z0-9][A-Za-z0-9._/-]{0,254}")
BRANCH_EXPECTED = "a branch name such as `main`"
PY_VERSION = re.compile(r"|3\.\d{1,2}(?:\.\d{1,2})?", re.ASCII)
PY_VERSION_EXPECTED = "a Python version such as `3.12`, or empty for the runner's python3"
TF_VERSION = re.compile(r"|\d+\.\d+(?:\.\d+)?", re.ASCII)
TF_VERSION_EXPECTED = "a Terraform version such as `1.11.4`, or empty for the runner's terraform"
BUILDERS = ("docker", "buildah")
ACCOUNT_IDS = re.compile(r"|\d{12}(?:,\d{12}){0,49}", re.ASCII)
ACCOUNT_IDS_EXPECTED = "comma-separated 12-digit AWS account IDs, e.g. `123456789012`"

# name -> (default, pattern, expected); None default means required.
FIELDS: dict[str, tuple[str | None, re.Pattern[str], str]] = {
    "org": ("hoopstat-haus", GITHUB_OWNER, GITHUB_OWNER_EXPECTED),
    "app": (None, APP_NAME, APP_NAME_EXPECTED),
    "function": (None, validate.LAMBDA_FUNCTION, validate.LAMBDA_FUNCTION_EXPECTED),
    "ecr-repository": (None, validate.ECR_REPOSITORY, validate.ECR_REPOSITORY_EXPECTED),
    "role-arn": (None, validate.ROLE_ARN, validate.ROLE_ARN_EXPECTED),
    "region": (None, validate.REGION, validate.REGION_EXPECTED),
    "alias": ("live", validate.LAMBDA_ALIAS, validate.LAMBDA_ALIAS_EXPECTED),
    "environment": ("production", ENVIRONMENT, ENVIRONMENT_EXPECTED),
    "branch": ("main", BRANCH, BRANCH_EXPECTED),
    "context": (".", validate.REPO_DIR, validate.REPO_DIR_EXPECTED),
    "python-version": ("3.12", PY_VERSION, PY_VERSION_EXPECTED),
    "terraform-dir": ("terraform", validate.REPO_DIR, validate.REPO_DIR_EXPECTED),
    "terraform-role-arn": ("", validate.ROLE_ARN, validate.ROLE_ARN_EXPECTED),
    "terraform-version": ("1.11.4", TF_VERSION, TF_VERSION_EXPECTED),
    "allowed-account-ids": ("", ACCOUNT_IDS, ACCOUNT_IDS_EXPECTED),
    "apps-dir": ("apps", validate.REPO_DIR, validate.REPO_DIR_EXPECTED),
    "libs-dir": ("libs", validate.REPO_DIR, validate.REPO_DIR_EXPECTED),
}
# Recorded in the manifest beside FIELDS, so a re-run keeps them too.
EXTRA_VALUES = ("smoke-payload", "builder", "installer")
# How the CI job installs a single app (python-app-ci.yml's `installer`); a monorepo app names
# its own in its settings. Empty: detected from the app's manifest on every run.
INSTALLER_CHOICES = (*app_settings.INSTALLERS, "none")


def _environment(template_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - YAML, not HTML; values are validated and quoted
    )


def _quote(value: Any) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(str(value))


def render(
    name: str,
    values: Mapping[str, Any],
    *,
    template_dir: Path = TEMPLATE_DIR,
    layout: str = "single-app",
) -> str:
    env = _environment(template_dir)
    env.filters["q"] = _quote
    context = {key.replace("-", "_"): value for key, value in values.items()}
    return env.get_template(LAYOUTS[layout][name].source).render(**context)


def released() -> tuple[str, str]:
    """The (sha, version) this copy of the suite was released as; empty when not a release."""
    data = json.loads(RELEASE_FILE.read_text())
    return str(data.get("sha", "")), str(data.get("version", ""))


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Plan:
    """What ``init`` would do to each file: create, update, unchanged, or conflict."""

    actions: dict[str, str]
    contents: dict[str, str]
    manifest: dict[str, Any]

    @property
    def conflicts(self) -> list[str]:
        return [path for path, action in self.actions.items() if action.startswith("conflict")]


def read_manifest(repo: Path) -> dict[str, Any]:
    path = repo / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise FactoryError(
            f"{MANIFEST} is not valid JSON ({exc}).",
            title="Unreadable manifest",
            fix=f"Restore {MANIFEST} from git, or delete it and re-run with --force.",
            reason="invalid-input",
        ) from exc
    if not isinstance(data, dict):
        raise FactoryError(
            f"{MANIFEST} holds {type(data).__name__}, not the JSON object factory init writes.",
            title="Unreadable manifest",
            fix=f"Restore {MANIFEST} from git, or delete it and re-run with --force.",
            reason="invalid-input",
        )
    return data


def plan(
    repo: Path,
    *,
    templates: list[str],
    values: Mapping[str, str],
    force: bool,
    app_files: Mapping[str, str] | None = None,
    layout: str = "single-app",
    apps: list[dict[str, str]] | None = None,
) -> Plan:
    """``app_files`` (``--new-app``) are planned like the workflows: same conflict rules, and
    recorded in the manifest, so a later ``--force`` re-scaffold can tell edits from ours.
    ``apps`` (monorepo): each deployable app's name and function, for the rollback choice."""
    old = read_manifest(repo)
    recorded: dict[str, str] = old.get("files") or {}
    actions: dict[str, str] = {}
    contents: dict[str, str] = dict(app_files or {})
    context: dict[str, Any] = dict(values)
    if layout == "monorepo":
        deployable = apps or []
        context["apps"] = deployable
        context["functions-json"] = json.dumps(
            {a["name"]: a["function"] for a in deployable}, separators=(",", ":")
        )
    for name in templates:
        contents[LAYOUTS[layout][name].target] = render(name, context, layout=layout)
    for target, text in contents.items():
        existing = repo / target
        if not existing.exists():
            actions[target] = "create"
            continue
        current = existing.read_text()
        if current == text:
            actions[target] = "unchanged"
        elif recorded.get(target) == digest(current):
            actions[target] = "update"
        elif force:
            actions[target] = "overwrite (--force)"
        elif target in recorded:
            actions[target] = "conflict: edited since factory init wrote it"
        else:
            actions[target] = "conflict: exists and was not written by factory init"
    files = dict(recorded)
    files.update({path: digest(text) for path, text in contents.items()})
    manifest = {
        "generator": "hoopstat-factory init",
        "suite": values["suite"],
        "suite_ref": values["suite-ref"],
        "suite_version": values["suite-version"],
        "layout": layout,
        "templates": sorted(set(old.get("templates") or []) | set(templates)),
        "values": {k: values[k] for k in (*FIELDS, *EXTRA_VALUES) if k in values},
        "files": dict(sorted(files.items())),
    }
    if layout == "monorepo":
        manifest["apps"] = {a["name"]: a["function"] for a in apps or []}
    scaffold = old.get("scaffold") or (EXAMPLE_NAME if app_files else "")
    if scaffold:
        manifest["scaffold"] = scaffold
    return Plan(actions, contents, manifest)


def apply(repo: Path, result: Plan) -> None:
    if result.conflicts:
        listed = "\n".join(f"- `{p}`: {result.actions[p]}" for p in result.conflicts)
        raise FactoryError(
            f"{len(result.conflicts)} file(s) would overwrite your edits: "
            + ", ".join(result.conflicts)
            + ". Nothing was written.",
            title="Refusing to overwrite edited workflows",
            fix="Move your changes into a separate workflow (or the template's inputs), delete "
            "the file to have it written fresh, or re-run with --force to overwrite.\n\n" + listed,
            reason="invalid-input",
        )
    for path, text in result.contents.items():
        if result.actions[path] == "unchanged":
            continue
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    manifest = repo / MANIFEST
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(result.manifest, indent=2) + "\n")


# -- ``--new-app``: a new app directory from the template app ----------------------------------

EXAMPLE_NAME = "hello-stats"
NEW_APP = re.compile(r"[a-z][a-z0-9]{0,39}(?:-[a-z0-9]{1,40}){0,8}")
NEW_APP_EXPECTED = (
    "a new app name: lowercase words of letters and digits joined by `-`, starting with a letter "
    "(it also names a Python module and an environment variable), e.g. `shot-charts`"
)
# The example's name in each spelling it takes: package/function/README, module, env variable.
NAME_FORMS = (
    ("HELLO_STATS", "[[ app_env ]]"),
    ("hello_stats", "[[ app_module ]]"),
    ("hello-stats", "[[ app ]]"),
)
# Caches and environments are not part of the example's source.
SCAFFOLD_SKIP = frozenset(
    {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
)
# The example pins hoopstat-runtime to a suite tag and links the library by a path inside this
# repository; a new app pins and links the suite it was made by instead.
RUNTIME_PIN = re.compile(r"git\+https://github\.com/[A-Za-z0-9-]+/[A-Za-z0-9._-]+@[^#\s]+")
RUNTIME_PIN_TEMPLATE = "git+https://github.com/[[ suite ]]@[[ runtime_ref ]]"
RUNTIME_LINK = "](../../libs/hoopstat-runtime)"
RUNTIME_LINK_TEMPLATE = (
    "](https://github.com/[[ suite ]]/tree/[[ runtime_ref ]]/libs/hoopstat-runtime)"
)
JINJA_OPENERS = ("[[", "[%", "[#")


def app_template_from_example(example: Path) -> dict[str, str]:
    """Template path → Jinja source of every file of the example app, made mechanically so the
    example stays the one thing people edit (``sync_app_template`` writes the result)."""
    sources: dict[str, str] = {}
    for path in sorted(example.rglob("*")):
        rel = path.relative_to(example)
        if not path.is_file() or SCAFFOLD_SKIP.intersection(rel.parts) or path.suffix == ".pyc":
            continue
        text = path.read_text()
        clash = [opener for opener in JINJA_OPENERS if opener in text]
        if clash:
            raise FactoryError(
                f"{rel} contains {', '.join(clash)}, the app template's Jinja delimiters.",
                title="Example app cannot be templated",
                fix=f"Rewrite the line in {example / rel} without {', '.join(clash)}.",
                reason="invalid-input",
            )
        for literal, placeholder in NAME_FORMS:
            text = text.replace(literal, placeholder)
        text = RUNTIME_PIN.sub(RUNTIME_PIN_TEMPLATE, text)
        text = text.replace(RUNTIME_LINK, RUNTIME_LINK_TEMPLATE)
        target = (
            rel.as_posix().replace("hello_stats", "{app_module}").replace("hello-stats", "{app}")
        )
        sources[target + ".j2"] = text
    return sources


def packaged_app_template(template_dir: Path = APP_TEMPLATE_DIR) -> dict[str, str]:
    return {
        path.relative_to(template_dir).as_posix(): path.read_text()
        for path in sorted(template_dir.rglob("*.j2"))
    }


def sync_app_template(example: Path, dest: Path = APP_TEMPLATE_DIR) -> None:
    """Rewrite the packaged template app from the example (run after editing the example)."""
    sources = app_template_from_example(example)
    for stale in set(packaged_app_template(dest)) - set(sources):
        (dest / stale).unlink()
    for name, text in sources.items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_text(text)


def render_app(
    values: Mapping[str, str], *, template_dir: Path = APP_TEMPLATE_DIR
) -> dict[str, str]:
    """Path in the new app → text: the template app renamed for ``values["app"]``."""
    name = values["app"]
    module = name.replace("-", "_")
    context = {
        "app": name,
        "app_module": module,
        "app_env": module.upper(),
        "suite": values["suite"],
        # The release the workflows are pinned to is the runtime the app should build against.
        "runtime_ref": values["suite-version"] or values["suite-ref"],
    }
    env = _environment(template_dir)
    files: dict[str, str] = {}
    for source in packaged_app_template(template_dir):
        target = source.removesuffix(".j2").replace("{app_module}", module).replace("{app}", name)
        files[target] = env.get_template(source).render(**context)
    if not files:
        raise FactoryError(
            f"No app template in {template_dir}.",
            title="Template app missing",
            fix="Reinstall the suite; in a checkout, run sync_app_template().",
            reason="invalid-input",
        )
    return files


APP_LINE_LENGTH = 100  # the template app's own ruff line-length
NAME_PLACEHOLDERS = re.compile(r"\[\[ (?:app|app_module|app_env) \]\]")


def longest_app_name(template_dir: Path = APP_TEMPLATE_DIR) -> int:
    """The longest name whose rendered Python lines still fit the app's ruff line length, so a
    new app passes its own CI lint (each name placeholder renders to exactly len(name))."""
    longest = 63
    for source, text in packaged_app_template(template_dir).items():
        if not source.endswith(".py.j2"):
            continue
        for line in text.splitlines():
            count = len(NAME_PLACEHOLDERS.findall(line))
            if count:
                fixed = len(NAME_PLACEHOLDERS.sub("", line))
                longest = min(longest, (APP_LINE_LENGTH - fixed) // count)
    return longest


def check_new_app_target(target: Path, *, force: bool) -> None:
    """A new app goes into a new or empty directory (a bare ``git clone`` counts as empty)."""
    if target.exists() and not target.is_dir():
        raise InputError(
            [InputProblem("dir", f"'{target}' is a file.", "a new or empty directory")]
        )
    present = (
        sorted(p.name for p in target.iterdir() if p.name != ".git") if target.exists() else []
    )
    if present and not force:
        shown = ", ".join(present[:5]) + (", …" if len(present) > 5 else "")
        raise FactoryError(
            f"{target} is not empty ({shown}). Nothing was written.",
            title="Refusing to scaffold into a non-empty directory",
            fix="Pick a new directory with --dir, or re-run with --force to write the app's "
            "files over what is there (files of the same name are overwritten).",
            reason="invalid-input",
        )


def new_app_defaults(args: argparse.Namespace) -> list[InputProblem]:
    """Fill the values a new app can derive from its name; return what is wrong with the name."""
    name = args.new_app
    if not NEW_APP.fullmatch(name) or len(name) > 63:
        return [InputProblem("new-app", f"'{name}' is not valid.", NEW_APP_EXPECTED)]
    longest = longest_app_name()
    if len(name) > longest:
        return [
            InputProblem(
                "new-app",
                f"'{name}' is {len(name)} characters: the template app's code would not fit "
                f"its {APP_LINE_LENGTH}-character lint limit.",
                f"a name of at most {longest} characters",
            )
        ]
    if args.app is not None and args.app != name:
        return [InputProblem("app", f"'{args.app}' differs from --new-app '{name}'.", name)]
    for flag, value in (("app", name), ("function", name), ("ecr_repository", f"hoopstat/{name}")):
        if getattr(args, flag) is None:
            setattr(args, flag, value)
    return []


EPILOG = """\
examples:
  one app per repository (run at the repository root):
    factory init --app box-scores --function hoopstat-box-scores \\
      --ecr-repository hoopstat/box-scores \\
      --role-arn arn:aws:iam::123456789012:role/hoopstat-deploy-box-scores --region us-east-1
  a new app in a new repository:
    factory init --new-app shot-charts --dir shot-charts \\
      --role-arn arn:aws:iam::123456789012:role/hoopstat-deploy-shot-charts --region us-east-1
  a monorepo (apps/<app>, libs/<lib>; each app's settings in its pyproject.toml):
    factory init --monorepo \\
      --role-arn arn:aws:iam::123456789012:role/hoopstat-deploy --region us-east-1
  after adding an app, or to move to a new release: re-run with only what changes
    factory init
    factory init --ref <sha of the release> --version v1.4.0

Values not given are taken from .github/hoopstat-factory.json (written by the last run), then
from the defaults above. Files you edited are never overwritten without --force.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="factory init",
        description="Write the pipeline's caller workflows (deploy on merge, rollback on "
        "dispatch, optionally Terraform) into .github/workflows/ at a repository's root: for one "
        "app, or with --monorepo for every app under apps/.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dir",
        default=None,
        help="the repository's root (default: the current directory; with --new-app, ./NAME); "
        "a directory inside a git repository is refused",
    )
    parser.add_argument(
        "--monorepo",
        action="store_true",
        help="one set of workflows for every app under --apps-dir, each app's own settings "
        "read from apps/<app>/pyproject.toml [tool.hoopstat-factory] (default: on when "
        "--apps-dir and --libs-dir both exist and --app is not given; kept by the manifest)",
    )
    parser.add_argument(
        "--new-app",
        metavar="NAME",
        help="first scaffold a new app (Dockerfile, handler, tests, smoke test) from the "
        f"template app {EXAMPLE_NAME}, renamed NAME, into a new or empty --dir",
    )
    for name, (default, _, expected) in FIELDS.items():
        if default is None:
            shown = "required on first run; not used with --monorepo"
        elif name in PER_APP_FIELDS:
            shown = f"default {default!r}; not used with --monorepo"
        else:
            shown = f"default {default!r}"
        parser.add_argument(f"--{name}", help=f"{expected} ({shown}; or the manifest's value)")
    parser.add_argument(
        "--smoke-payload",
        help="JSON event for the smoke test (default {}, or with --new-app the app's "
        "smoke/event.json; not used with --monorepo: each app's deploy.smoke-payload)",
    )
    parser.add_argument("--builder", help="ecr-push builder: docker or buildah (default docker)")
    parser.add_argument(
        "--installer",
        help="how CI installs the app: " + " | ".join(INSTALLER_CHOICES) + " (default: detected "
        "from the app's pyproject on every run: Poetry → poetry, uv → uv, else uv-pip, which "
        "installs .[test] through the hash-checked uv; not used with --monorepo: each app's "
        "installer setting)",
    )
    parser.add_argument(
        "--template",
        action="append",
        choices=sorted(TEMPLATES),
        help="which workflows to write (repeatable; default deploy and rollback, or those of "
        "the last run; workflows written before are kept)",
    )
    parser.add_argument("--suite", help="OWNER/REPO of the suite (default ORG/hoopstat-factory)")
    parser.add_argument("--ref", help="suite commit SHA to pin (default: this release's SHA)")
    parser.add_argument("--version", help="the release version for the pin comment (vX.Y.Z)")
    parser.add_argument("--force", action="store_true", help="overwrite files edited by hand")
    parser.add_argument("--dry-run", action="store_true", help="show what would change")
    parser.add_argument(
        "--workflow-templates",
        metavar="DIR",
        help="instead: write the org-level templates (placeholder values) into DIR",
    )
    return parser


def collect_values(
    args: argparse.Namespace, previous: Mapping[str, Any], *, layout: str = "single-app"
) -> dict[str, str]:
    """Flags, then the manifest's values, then defaults; every problem reported at once (named
    as ``--role-arn`` at a terminal: see :func:`main`)."""
    before: Mapping[str, str] = previous.get("values") or {}
    problems: list[InputProblem] = []
    values: dict[str, str] = {}
    for name, (default, pattern, expected) in FIELDS.items():
        given = getattr(args, name.replace("-", "_"))
        if layout == "monorepo" and name in PER_APP_FIELDS:
            if given is not None:
                problems.append(
                    InputProblem(
                        name,
                        "is not used with --monorepo: each app sets it in its own settings.",
                        f"the app's [tool.hoopstat-factory] table (see factory init --help); "
                        f"drop --{name}",
                    )
                )
            values[name] = str(before.get(name) or default or "")
            continue
        value = given if given is not None else before.get(name, default)
        if value is None:
            problems.append(
                InputProblem(name, "is required (no manifest to take it from).", expected)
            )
            continue
        value = str(value).strip()
        if not value and default is None:
            problems.append(InputProblem(name, "is required but empty.", expected))
        elif value and not pattern.fullmatch(value):
            problems.append(InputProblem(name, f"'{value}' is not valid.", expected))
        values[name] = value
    values["terraform-role-arn"] = values.get("terraform-role-arn") or values.get("role-arn", "")
    values["context"] = (values.get("context") or ".").strip("/") or "."
    for name in ("apps-dir", "libs-dir"):
        values[name] = values.get(name, "").strip("/") or str(FIELDS[name][0])

    payload = (
        args.smoke_payload if args.smoke_payload is not None else before.get("smoke-payload", "{}")
    )
    try:
        json.loads(payload or "{}")
    except json.JSONDecodeError as exc:
        problems.append(InputProblem("smoke-payload", f"is not JSON ({exc}).", "a JSON event"))
    values["smoke-payload"] = payload
    builder = args.builder or before.get("builder", "docker")
    if builder not in BUILDERS:
        problems.append(
            InputProblem("builder", f"'{builder}' is not one of them.", "docker | buildah")
        )
    values["builder"] = builder
    installer = args.installer if args.installer is not None else before.get("installer", "")
    if layout == "monorepo" and args.installer is not None:
        problems.append(
            InputProblem(
                "installer",
                "is not used with --monorepo: each app sets it in its own settings.",
                "the app's [tool.hoopstat-factory] `installer` key; drop --installer",
            )
        )
    elif installer and installer not in INSTALLER_CHOICES:
        problems.append(
            InputProblem("installer", f"'{installer}' is not one of them.",
                         " | ".join(INSTALLER_CHOICES))
        )
    values["installer"] = installer

    org = values.get("org", "hoopstat-haus")
    suite = args.suite or previous.get("suite") or f"{org}/{DEFAULT_SUITE_REPO}"
    if not re.fullmatch(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}", suite):
        problems.append(InputProblem("suite", f"'{suite}' is not OWNER/REPO.", "OWNER/REPO"))
    values["suite"] = suite

    # The pin: --ref, else this suite's release (the upgrade path), else the manifest's.
    release_sha, release_version = released()
    ref = args.ref or release_sha or str(previous.get("suite_ref") or "")
    if args.version is not None:
        version = args.version
    elif ref == release_sha:
        version = release_version
    elif ref == previous.get("suite_ref"):
        version = str(previous.get("suite_version") or "")
    else:
        version = ""
    if not ref:
        problems.append(
            InputProblem(
                "ref",
                "is needed: this copy of the suite is not a release (no pinned SHA).",
                SUITE_REF_EXPECTED + "; e.g. `--ref <sha> --version v1.4.0`",
            )
        )
    elif not SUITE_REF.fullmatch(ref) or ref.startswith("-"):
        problems.append(InputProblem("ref", f"'{ref}' is not valid.", SUITE_REF_EXPECTED))
    if version and not VERSION.fullmatch(version):
        problems.append(InputProblem("version", f"'{version}' is not valid.", VERSION_EXPECTED))
    if problems:
        raise InputError(problems)
    if not FULL_SHA.fullmatch(ref):
        runner.warning(
            f"The suite is referenced as @{ref}, not by commit SHA: a moved ref changes what "
            "runs in your pipeline, and zizmor will flag it. Use a release SHA outside rehearsals.",
            title="Suite not pinned by SHA",
        )
    values["suite-ref"] = ref
    values["suite-version"] = version
    values["pin-comment"] = f" # {version}" if version else ""
    return values


def ci_installer(values: Mapping[str, str], repo: Path, app_files: Mapping[str, str] | None
                 ) -> str:
    """The installer the CI job gets: the one given (kept by the manifest), else the one the
    app's manifest implies (a new app's from its scaffolded pyproject)."""
    if values.get("installer"):
        return values["installer"]
    if app_files is not None:
        text, files = app_files.get("pyproject.toml"), set(app_files)
        pyproject = app_settings.read_toml(text.encode(), file="pyproject.toml") if text else None
    else:
        app_dir = repo / values["context"]
        pyproject, files = app_settings.read_manifest(app_dir, label=str(app_dir))
    return app_settings.detect_installer(pyproject, files)


def git_root(path: Path) -> Path | None:
    """The nearest directory at or above ``path`` holding ``.git``; None outside a repository."""
    resolved = path.resolve()
    for candidate in (resolved, *resolved.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def check_repository_root(repo: Path, *, monorepo: bool) -> None:
    """GitHub reads workflows only from the root's .github/workflows: refuse anywhere else."""
    root = git_root(repo)
    if root is None or root == repo.resolve():
        return
    inside = repo.resolve().relative_to(root).as_posix()
    raise FactoryError(
        f"--dir {repo} is {inside}/ inside the git repository {root}: GitHub reads workflows "
        f"only from {root}/.github/workflows, so {inside}/.github would never run. Nothing was "
        "written.",
        title="Workflows go at the repository root",
        fix=f"Run factory init at the repository root (`cd {root}` and drop --dir, or "
        f"`--dir {root}`)"
        + (
            "."
            if monorepo
            else f". If {inside} is one app of a monorepo, use `factory init --monorepo` "
            f"there: one set of workflows for every app, each app's function, repository and "
            f"Dockerfile in {inside}/pyproject.toml [tool.hoopstat-factory]."
        ),
        reason="invalid-input",
    )


def choose_layout(args: argparse.Namespace, repo: Path, previous: Mapping[str, Any]) -> str:
    if args.monorepo:
        return "monorepo"
    recorded = str(previous.get("layout") or "")
    if recorded in LAYOUTS:
        return recorded
    if previous or args.app is not None or args.new_app is not None:
        return "single-app"
    apps_dir = (args.apps_dir or str(FIELDS["apps-dir"][0])).strip("/")
    libs_dir = (args.libs_dir or str(FIELDS["libs-dir"][0])).strip("/")
    if (repo / apps_dir).is_dir() and (repo / libs_dir).is_dir():
        runner.info(
            f"Monorepo layout: {apps_dir}/ and {libs_dir}/ found and no --app given "
            "(pass --monorepo to say so, or --app for one app per repository)."
        )
        return "monorepo"
    return "single-app"


def monorepo_apps(repo: Path, apps_dir: str) -> list[app_settings.AppSettings]:
    """Every app's settings (apps without settings included, as CI-only); bad settings, an app
    linked outside the repository and two apps on one function are refused here, before any
    file is written."""
    base = repo / apps_dir
    if not base.is_dir():
        raise FactoryError(
            f"{base} is not a directory: a monorepo keeps one folder per app there.",
            title="No apps directory",
            fix=f"Create {apps_dir}/<app>/ for each app, or name the folder with --apps-dir.",
            reason="invalid-input",
        )
    found = []
    for app_dir in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        settings = app_settings.load(app_dir, repo_root=repo)
        if settings is not None:
            found.append(settings)
    app_settings.check_apart(found)
    return found


def next_steps(
    values: Mapping[str, str], *, layout: str, templates: list[str], repo: Path
) -> list[str]:
    env = values["environment"]
    steps = [
        f"git add .github && git commit -m 'Hoopstat Factory pipeline' (in {repo})",
        f"create the GitHub environment '{env}' (Settings → Environments) with its "
        "protection rules",
        f"give {values['role-arn']} a trust policy for this repository's OIDC subject "
        f"repo:<owner>/<repo>:environment:{env} (terraform/modules/github-oidc; "
        "`factory oidc-subject` prints it)",
    ]
    if layout == "monorepo":
        steps.append(
            f"each deployable app needs a [tool.hoopstat-factory.deploy] table in "
            f"{values['apps-dir']}/<app>/pyproject.toml (function, ecr-repository, tag-prefix, "
            "dockerfile); apps without one get CI only"
        )
        steps.append(
            "after adding an app or changing an app's function, re-run `factory init` "
            "(it updates the rollback's app list and keeps every option given before)"
        )
    if "terraform" in templates:
        steps.append(
            f"the Terraform workflow plans {values['terraform-dir']}/ on pull requests and "
            "applies the reviewed plan on merge"
        )
    steps.append(f"push to {values['branch']}: the deploy workflow runs on every merge")
    return steps


# The org-level templates (workflow-templates/, offered in GitHub's "New workflow" page) are
# the same sources rendered with values for the user to replace.
PLACEHOLDERS: dict[str, str] = {
    "org": "hoopstat-haus",
    "app": "my-app",
    "function": "my-app",
    "ecr-repository": "hoopstat/my-app",
    "role-arn": "arn:aws:iam::123456789012:role/hoopstat-deploy-my-app",
    "region": "us-east-1",
    "alias": "live",
    "environment": "production",
    "branch": "$default-branch",
    "context": ".",
    "python-version": "3.12",
    "terraform-dir": "terraform",
    "terraform-role-arn": "arn:aws:iam::123456789012:role/hoopstat-terraform",
    "terraform-version": "1.11.4",
    "smoke-payload": "{}",
    "builder": "docker",
    "installer": "",
    "ci-installer": "uv-pip",
    "allowed-account-ids": "",
    "apps-dir": "apps",
    "libs-dir": "libs",
}
PLACEHOLDER_APPS = [{"name": "my-app", "function": "my-app"}]
PLACEHOLDER_NOTE = (
    "# Template: replace my-app, the role ARNs and the region with your app's values (or run\n"
    "# `factory init`, which fills them in and keeps them up to date).\n"
)


def workflow_template_name(name: str, layout: str = "single-app") -> str:
    return LAYOUTS[layout][name].source.removesuffix(".j2")


def render_workflow_templates(
    *, suite: str, ref: str, version: str, template_dir: Path = TEMPLATE_DIR
) -> dict[str, str]:
    """File name → text of each org-level template (both layouts), pinned to ``ref``."""
    values: dict[str, Any] = {
        **PLACEHOLDERS,
        "suite": suite,
        "suite-ref": ref,
        "suite-version": version,
        "pin-comment": f" # {version}" if version else "",
        "apps": PLACEHOLDER_APPS,
        "functions-json": json.dumps(
            {a["name"]: a["function"] for a in PLACEHOLDER_APPS}, separators=(",", ":")
        ),
    }
    rendered: dict[str, str] = {}
    for layout, templates in LAYOUTS.items():
        for name in templates:
            rendered.setdefault(
                workflow_template_name(name, layout),
                PLACEHOLDER_NOTE + render(name, values, template_dir=template_dir, layout=layout),
            )
    return rendered


def run(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    if args.workflow_templates:
        write_workflow_templates(Path(args.workflow_templates), args)
        return
    if args.new_app is not None:
        if args.monorepo:
            raise InputError([
                InputProblem(
                    "new-app",
                    "cannot be combined with --monorepo: it writes a one-app repository.",
                    "a new app in its own repository; in a monorepo, create apps/<app>/ with a "
                    "[tool.hoopstat-factory] table and re-run `factory init`",
                )
            ])
        repo = Path(args.dir if args.dir is not None else args.new_app)
        problems = new_app_defaults(args)
        if problems:
            raise InputError(problems)
        check_repository_root(repo, monorepo=False)
        check_new_app_target(repo, force=args.force)
        previous = read_manifest(repo) if repo.is_dir() else {}
    else:
        repo = Path(args.dir if args.dir is not None else ".")
        if not repo.is_dir():
            raise InputError(
                [InputProblem("dir", f"'{repo}' is not a directory.", "a repository's root")]
            )
        check_repository_root(repo, monorepo=args.monorepo)
        previous = read_manifest(repo)
    layout = choose_layout(args, repo, previous)
    values = collect_values(args, previous, layout=layout)
    templates = list(args.template or previous.get("templates") or DEFAULT_TEMPLATES)
    apps: list[dict[str, str]] = []
    if layout == "monorepo":
        found = monorepo_apps(repo, values["apps-dir"])
        apps = [
            {"name": s.name, "function": s.deploy.function}
            for s in found
            if s.deploy is not None
        ]
        if "rollback" in templates and not apps:
            runner.warning(
                f"No app under {values['apps-dir']}/ has deploy settings, so there is nothing to "
                "roll back: rollback.yml is not written. Add a [tool.hoopstat-factory.deploy] "
                "table to an app and re-run factory init.",
                title="No deployable app",
            )
            templates = [t for t in templates if t != "rollback"]
    app_files = render_app(values) if args.new_app is not None else None
    if app_files and args.smoke_payload is None and "smoke/event.json" in app_files:
        # The deploy workflow's smoke test sends the event the app's own smoke test uses.
        values["smoke-payload"] = json.dumps(json.loads(app_files["smoke/event.json"]))
    if layout == "single-app":
        values["ci-installer"] = ci_installer(values, repo, app_files)
    result = plan(
        repo,
        templates=templates,
        values=values,
        force=args.force,
        app_files=app_files,
        layout=layout,
        apps=apps,
    )
    pin = values["suite-ref"] + values["pin-comment"]
    if layout == "monorepo":
        listed = ", ".join(a["name"] for a in apps) or "none"
        runner.info(f"Hoopstat Factory init (monorepo) → {values['suite']}@{pin}")
        runner.info(
            f"  apps under {values['apps-dir']}/: deployable {listed}; "
            f"{len(found) - len(apps)} with CI-only settings (apps without settings get CI "
            "defaults)"
        )
    else:
        runner.info(f"Hoopstat Factory init: {values['app']} → {values['suite']}@{pin}")
    if app_files:
        runner.info(f"  new app {values['app']} in {repo}, from the template app {EXAMPLE_NAME}")
    for path, action in result.actions.items():
        runner.info(f"  {action:<12} {path}")
    if args.dry_run:
        runner.info("Dry run: nothing written.")
        if result.conflicts:
            raise FactoryError(
                f"{len(result.conflicts)} file(s) were edited by hand: "
                + ", ".join(result.conflicts),
                title="Edited workflows",
                fix="Re-run with --force to overwrite them, or delete them first.",
                reason="invalid-input",
            )
        return
    apply(repo, result)
    if app_files:
        # The runtime library travels with the app (docs/adr/0011): a path dependency, no git URL.
        from factory_cli import vendor_runtime

        for path in vendor_runtime.vendor(
            repo, origin=f"{values['suite']}@{values['suite-ref']}"
        ):
            runner.info(f"  vendored     {path}")
    runner.info(f"  recorded     {MANIFEST}")
    runner.info("Next steps:")
    for number, step in enumerate(
        next_steps(values, layout=layout, templates=templates, repo=repo), start=1
    ):
        runner.info(f"  {number}. {step}")


def write_workflow_templates(dest: Path, args: argparse.Namespace) -> None:
    release_sha, release_version = released()
    ref = args.ref or release_sha or "main"
    version = args.version if args.version is not None else release_version
    bad = [
        InputProblem(n, f"'{v}' is not valid.", e)
        for n, v, p, e in (
            ("ref", ref, SUITE_REF, SUITE_REF_EXPECTED),
            ("version", version, re.compile(f"|{VERSION.pattern}", re.ASCII), VERSION_EXPECTED),
        )
        if not p.fullmatch(v)
    ]
    if bad:
        raise InputError(bad)
    suite = args.suite or f"hoopstat-haus/{DEFAULT_SUITE_REPO}"
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in render_workflow_templates(suite=suite, ref=ref, version=version).items():
        (dest / name).write_text(text)
        runner.info(f"  wrote {dest / name}")


def main(argv: list[str] | None = None) -> int:
    # A bad value is reported by its flag (`--role-arn`), not as an action input.
    runner.input_flag_form = "--{name}"
    return runner.run_action(lambda: run(list(argv or [])))


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
