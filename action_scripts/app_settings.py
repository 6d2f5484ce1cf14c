"""An app's own settings for CI and deploy: the one reader (changed-apps, ``factory init``).

Settings live with the app, in ONE of two places (both at once is an error):

* a ``[tool.hoopstat-factory]`` table in ``apps/<app>/pyproject.toml``, or
* ``apps/<app>/hoopstat-factory.toml`` (same keys at its top level), for apps without a
  pyproject (requirements.txt apps) or teams that keep tool tables out of the manifest.

Example (``pyproject.toml``; every key is optional, and the ``deploy`` table makes the app
deployable — an app without it is CI-only)::

    [tool.hoopstat-factory]
    depends-on = ["shared/schemas"]     # extra repo-root paths the app is built from; [] = "none",
                                        # which also silences changed-apps' "no local deps" warning
    python = "3.12"                     # default: from requires-python / poetry's python, else 3.12
    installer = "poetry"                # poetry | uv | uv-pip | pip; default: detected from the
                                        # manifest (uv-pip: .[test] through uv's pip interface)
    test-command = "python -m pytest"   # run from the app directory in its environment
    lint-command = "ruff check ."       # default: none

    [tool.hoopstat-factory.deploy]      # a Lambda container function
    function = "hoopstat-box-scores"    # required; unique across apps
    ecr-repository = "hoopstat-haus/prod"   # required
    tag-prefix = "box-scores-"          # default "": apps sharing a repository need distinct ones
    dockerfile = "apps/box-scores/Dockerfile"   # repo-root relative; default <app dir>/Dockerfile
    context = "."                       # repo-root relative build context; default "." (root)
    platform = "linux/amd64"            # linux/amd64 | linux/arm64 (the function's architecture)
    strategy = "all-at-once"            # all-at-once | canary-P-M | linear-P-M
    alarms = ["box-scores-errors"]      # CloudWatch alarms watched during canary/linear
    smoke-payload = {source = "smoke"}  # a table, JSON text, or a repo-root path of a JSON file
    smoke-expect = '"ok": true'         # text the smoke reply must contain

Unknown keys and bad values raise :class:`FactoryError` (``invalid-input``) naming the file, the
key and the fix; :func:`check_apart` refuses two apps naming the same function, or sharing a
repository and tag prefix. Paths never leave the repository (no ``..``, no absolute paths), and
:func:`load` refuses an app directory that resolves outside the repository (a symlink).
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from action_scripts import lambda_strategy, validate
from action_scripts.errors import FactoryError

SETTINGS_FILE = "hoopstat-factory.toml"
TOOL_TABLE = "hoopstat-factory"

Installer = Literal["poetry", "uv", "uv-pip", "pip"]
INSTALLERS: tuple[Installer, ...] = ("poetry", "uv", "uv-pip", "pip")
PLATFORMS = ("linux/amd64", "linux/arm64")
DEFAULT_PYTHON = "3.12"
DEFAULT_TEST_COMMAND = "python -m pytest"

TOP_KEYS = ("depends-on", "python", "installer", "test-command", "lint-command", "deploy")
DEPLOY_KEYS = (
    "function",
    "ecr-repository",
    "tag-prefix",
    "dockerfile",
    "context",
    "platform",
    "strategy",
    "alarms",
    "smoke-payload",
    "smoke-expect",
)

PYTHON_VERSION = re.compile(r"3\.\d{1,2}")
# Collects one problem: the key (as written in the file) and what is wrong with it.
Problem = Callable[[str, str], None]

ALARM_NAME = re.compile(r"[^,\n]{1,255}")


@dataclass(frozen=True)
class Deploy:
    """How a deployable app is built and deployed (keys of the ``deploy`` table)."""

    function: str
    ecr_repository: str
    tag_prefix: str
    dockerfile: str
    context: str
    platform: str
    strategy: str
    alarms: tuple[str, ...]
    smoke_payload: str  # JSON text or a repo-root path; "" = no smoke invoke
    smoke_expect: str

    def workflow_inputs(self) -> dict[str, str]:
        """The reusable deploy workflow's inputs (same names), plus ``tag-prefix``."""
        return {
            "function-name": self.function,
            "ecr-repository": self.ecr_repository,
            "tag-prefix": self.tag_prefix,
            "dockerfile": self.dockerfile,
            "context": self.context,
            "platform": self.platform,
            "strategy": self.strategy,
            "alarm-names": "\n".join(self.alarms),
            "smoke-payload": self.smoke_payload,
            "smoke-expect": self.smoke_expect,
        }


@dataclass(frozen=True)
class AppSettings:
    """One app's settings; ``configured`` is False when the app declares none (CI defaults)."""

    app: str  # the app directory, relative to the repository root (e.g. apps/box-scores)
    source: str  # the file the settings came from ("" when not configured)
    configured: bool
    depends_on: tuple[str, ...]
    depends_on_declared: bool  # `depends-on` present, even empty: the app states its local deps
    python: str
    installer: Installer
    test_command: str
    lint_command: str
    deploy: Deploy | None

    @property
    def name(self) -> str:
        return PurePosixPath(self.app).name

    @property
    def deployable(self) -> bool:
        return self.deploy is not None

    def ci_entry(self) -> dict[str, str]:
        return {
            "python": self.python,
            "installer": self.installer,
            "test-command": self.test_command,
            "lint-command": self.lint_command,
        }


def read_toml(text: bytes, *, file: str) -> dict[str, Any]:
    """Parse a TOML file or raise an ``invalid-input`` error naming it."""
    try:
        return tomllib.loads(text.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FactoryError(
            f"{file} is not valid TOML: {exc}",
            title="Unreadable settings file",
            fix=f"Fix the TOML syntax of {file} at the line and column above.",
            reason="invalid-input",
        ) from exc


def detect_python(pyproject: Mapping[str, Any] | None) -> str:
    """``3.N`` from Poetry's ``python`` constraint or ``requires-python``; else the default."""
    data = pyproject or {}
    poetry_deps = _table(_table(_table(data, "tool"), "poetry"), "dependencies")
    for constraint in (poetry_deps.get("python"), _table(data, "project").get("requires-python")):
        if isinstance(constraint, str):
            found = re.search(r"3\.\d{1,2}", constraint)
            if found:
                return found.group(0)
    return DEFAULT_PYTHON


def detect_installer(pyproject: Mapping[str, Any] | None, files: Collection[str] = ()) -> Installer:
    """poetry for Poetry projects, uv for uv ones (table, lock or PEP 735 groups), else uv-pip
    (the app's ``.[test]`` installed by the hash-checked uv; ``pip`` does the same, ~10x slower)."""
    data = pyproject or {}
    tool = _table(data, "tool")
    if "poetry" in tool or "poetry.lock" in files:
        return "poetry"
    if "uv" in tool or "uv.lock" in files or "dependency-groups" in data:
        return "uv"
    return "uv-pip"


def parse(
    app: str,
    *,
    pyproject: Mapping[str, Any] | None,
    settings_file: bytes | None,
    files: Collection[str] = (),
) -> AppSettings:
    """The settings of the app at repo-relative ``app``, from its parsed pyproject (or None) and
    the bytes of its ``hoopstat-factory.toml`` (or None). ``files``: names in the app directory."""
    pyproject_file = f"{app}/pyproject.toml"
    table = _table(pyproject or {}, "tool").get(TOOL_TABLE)
    if table is not None and not isinstance(table, dict):
        raise _invalid(pyproject_file, f"tool.{TOOL_TABLE}", "is not a table.", "Make it a table.")
    source, raw = "", None
    if settings_file is not None:
        source = f"{app}/{SETTINGS_FILE}"
        raw = read_toml(settings_file, file=source)
        if table is not None:
            raise FactoryError(
                f"{app} has settings in both {source} and [tool.{TOOL_TABLE}] of "
                f"{pyproject_file}.",
                title="App settings in two places",
                fix=f"Keep one: move the keys into {source} and delete the table, or the reverse.",
                reason="invalid-input",
            )
    elif table is not None:
        source, raw = pyproject_file, table
    prefix = "" if source.endswith(SETTINGS_FILE) else f"tool.{TOOL_TABLE}."
    return _validate(app, source, prefix, raw, pyproject, files)


def load(app_dir: Path, *, repo_root: Path | None = None) -> AppSettings | None:
    """The settings of the app in ``app_dir`` on disk, or None when it declares none.

    ``repo_root`` defaults to the nearest parent holding ``.git``. Raises :class:`FactoryError`
    (``invalid-input``) for bad settings, an unreadable pyproject, or an app directory that
    resolves outside the repository."""
    root = (repo_root or _find_root(app_dir)).resolve()
    resolved = app_dir.resolve()
    if not resolved.is_relative_to(root) or resolved == root:
        raise FactoryError(
            f"App directory {app_dir} resolves to {resolved}, outside the repository {root}.",
            title="App directory outside the repository",
            fix="Move the app into the repository (apps/<app>) instead of linking to it; "
            "workflows only see what is checked in.",
            reason="invalid-input",
        )
    app = resolved.relative_to(root).as_posix()
    settings_path = resolved / SETTINGS_FILE
    pyproject, files = read_manifest(resolved, label=app)
    settings = parse(
        app,
        pyproject=pyproject,
        settings_file=settings_path.read_bytes() if settings_path.is_file() else None,
        files=files,
    )
    return settings if settings.configured else None


def read_manifest(app_dir: Path, *, label: str) -> tuple[dict[str, Any] | None, set[str]]:
    """The app's parsed pyproject.toml (None without one; ``label`` names it in errors) and the
    names of the files in its directory, what the detect_* functions read."""
    path = app_dir / "pyproject.toml"
    pyproject = (
        read_toml(path.read_bytes(), file=f"{label}/pyproject.toml") if path.is_file() else None
    )
    return pyproject, {p.name for p in app_dir.iterdir()} if app_dir.is_dir() else set()


def check_apart(all_settings: Iterable[AppSettings]) -> None:
    """Refuse two apps deploying to one function, or to one repository with one tag prefix."""
    functions: dict[str, AppSettings] = {}
    slots: dict[tuple[str, str], AppSettings] = {}
    for settings in sorted(all_settings, key=lambda s: s.app):
        deploy = settings.deploy
        if deploy is None:
            continue
        function = deploy.function.rsplit(":", 1)[-1]
        other = functions.setdefault(function, settings)
        if other is not settings:
            raise FactoryError(
                f"{other.source} and {settings.source} both set deploy.function = "
                f'"{deploy.function}".',
                title="Two apps deploy to one function",
                fix="Give each app its own Lambda function in its `deploy.function` key; one "
                "would overwrite the other's code on every deploy.",
                reason="invalid-input",
            )
        slot = (deploy.ecr_repository, deploy.tag_prefix)
        other = slots.setdefault(slot, settings)
        if other is not settings:
            raise FactoryError(
                f"{other.source} and {settings.source} share ecr-repository "
                f'"{deploy.ecr_repository}" with the same tag-prefix "{deploy.tag_prefix}".',
                title="Two apps share one image namespace",
                fix="Give each app in a shared repository its own `deploy.tag-prefix` "
                '(e.g. "<app>-"), so their tags and retention never mix.',
                reason="invalid-input",
            )


def _validate(
    app: str,
    source: str,
    prefix: str,
    raw: Mapping[str, Any] | None,
    pyproject: Mapping[str, Any] | None,
    files: Collection[str],
) -> AppSettings:
    problems: list[str] = []

    def bad(key: str, message: str) -> None:
        problems.append(f"`{prefix}{key}` {message}")

    data = dict(raw or {})
    _unknown(data, TOP_KEYS, "", bad)
    depends_on = _paths(data, "depends-on", bad)
    python = _string(data, "python", bad, PYTHON_VERSION, "a Python version such as \"3.12\"")
    installer = _string(data, "installer", bad, None, " | ".join(INSTALLERS))
    if installer and installer not in INSTALLERS:
        bad("installer", f'is "{installer}"; expected one of {", ".join(INSTALLERS)}.')
        installer = ""
    test_command = _string(data, "test-command", bad, None, "a one-line shell command")
    lint_command = _string(data, "lint-command", bad, None, "a one-line shell command")
    deploy = None
    if "deploy" in data:
        if isinstance(data["deploy"], dict):
            deploy = _deploy(app, data["deploy"], bad)
        else:
            bad("deploy", "is not a table; expected [deploy] with function and ecr-repository.")
    if problems:
        raise FactoryError(
            f"{source}: " + "; ".join(p.rstrip(".") for p in problems) + ".",
            title="Invalid app settings",
            fix=f"Edit {source}:\n" + "\n".join(f"- {p}" for p in problems),
            reason="invalid-input",
        )
    return AppSettings(
        app=app,
        source=source,
        configured=raw is not None,
        depends_on=depends_on,
        depends_on_declared="depends-on" in data,
        python=python or detect_python(pyproject),
        installer=installer or detect_installer(pyproject, files),  # type: ignore[arg-type]
        test_command=test_command or DEFAULT_TEST_COMMAND,
        lint_command=lint_command,
        deploy=deploy,
    )


def _deploy(app: str, data: Mapping[str, Any], bad_top: Problem) -> Deploy | None:
    ok = True

    def note(key: str, message: str) -> None:
        nonlocal ok
        ok = False
        bad_top(f"deploy.{key}", message)

    _unknown(data, DEPLOY_KEYS, "deploy.", bad_top)
    function = _string(
        data, "function", note, validate.LAMBDA_FUNCTION, validate.LAMBDA_FUNCTION_EXPECTED
    )
    if not function and "function" not in data:
        note("function", "is missing; expected " + validate.LAMBDA_FUNCTION_EXPECTED + ".")
    repository = _string(
        data, "ecr-repository", note, validate.ECR_REPOSITORY, validate.ECR_REPOSITORY_EXPECTED
    )
    if not repository and "ecr-repository" not in data:
        note("ecr-repository", "is missing; expected " + validate.ECR_REPOSITORY_EXPECTED + ".")
    tag_prefix = _string(
        data, "tag-prefix", note, validate.TAG_PREFIX, validate.TAG_PREFIX_EXPECTED
    )
    path_expected = "a path relative to the repository root (no `..`, no leading `/`)"
    dockerfile = _string(data, "dockerfile", note, validate.REPO_DIR, path_expected)
    context = _string(data, "context", note, validate.REPO_DIR, path_expected + ', e.g. "."')
    platform = _string(data, "platform", note, None, " | ".join(PLATFORMS))
    if platform and platform not in PLATFORMS:
        note("platform", f'is "{platform}"; expected {" or ".join(PLATFORMS)}.')
    strategy = _string(data, "strategy", note, None, lambda_strategy.EXPECTED)
    if strategy:
        parsed = lambda_strategy.parse(strategy)
        if isinstance(parsed, str):
            note("strategy", f"{parsed} Expected {lambda_strategy.EXPECTED}.")
    alarms: list[str] = []
    if "alarms" in data:
        value = data["alarms"]
        if not isinstance(value, list) or not all(
            isinstance(a, str) and ALARM_NAME.fullmatch(a) for a in value
        ):
            note("alarms", 'is not a list of alarm names; expected e.g. ["api-errors"].')
        else:
            alarms = list(value)
    smoke_payload = ""
    if "smoke-payload" in data:
        value = data["smoke-payload"]
        if isinstance(value, dict):
            smoke_payload = json.dumps(value, separators=(",", ":"), default=str)
        elif isinstance(value, str) and value.strip()[:1] in {"{", "["}:
            try:
                json.loads(value)
                smoke_payload = value.strip()
            except ValueError:
                note("smoke-payload", "is not valid JSON; expected a table or a JSON object.")
        elif isinstance(value, str) and validate.REPO_DIR.fullmatch(value):
            smoke_payload = value
        else:
            note(
                "smoke-payload",
                "is neither a table, JSON text nor a repo-root path of a JSON file.",
            )
    smoke_expect = _string(data, "smoke-expect", note, None, "text the reply must contain")
    if not ok:
        return None
    return Deploy(
        function=function,
        ecr_repository=repository,
        tag_prefix=tag_prefix,
        dockerfile=dockerfile or f"{app}/Dockerfile",
        context=context or ".",
        platform=platform or PLATFORMS[0],
        strategy=strategy or "all-at-once",
        alarms=tuple(alarms),
        smoke_payload=smoke_payload,
        smoke_expect=smoke_expect,
    )


def _unknown(data: Mapping[str, Any], known: tuple[str, ...], prefix: str, bad: Problem) -> None:
    for key in data:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}."
        bad(f"{prefix}{key}", f"is not a known key; {hint}")


def _string(
    data: Mapping[str, Any],
    key: str,
    bad: Problem,
    pattern: re.Pattern[str] | None,
    expected: str,
) -> str:
    if key not in data:
        return ""
    value = data[key]
    if not isinstance(value, str) or "\n" in value or not value.strip():
        bad(key, f"is {value!r}; expected {expected}.")
        return ""
    if pattern is not None and not pattern.fullmatch(value):
        bad(key, f'is "{value}"; expected {expected}.')
        return ""
    return value


def _paths(data: Mapping[str, Any], key: str, bad: Problem) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        bad(key, 'is not a list of paths; expected e.g. ["libs/schemas"].')
        return ()
    found = []
    for item in value:
        path = item.strip().strip("/")
        if not validate.REPO_DIR.fullmatch(path):
            bad(key, f'has "{item}"; expected {validate.REPO_DIR_EXPECTED}.')
        else:
            found.append(str(PurePosixPath(path)))
    return tuple(found)


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _invalid(file: str, key: str, message: str, fix: str) -> FactoryError:
    return FactoryError(
        f"{file}: `{key}` {message}", title="Invalid app settings", fix=fix, reason="invalid-input"
    )


def _find_root(start: Path) -> Path:
    for candidate in (start.resolve(), *start.resolve().parents):
        if (candidate / ".git").exists():
            return candidate
    raise FactoryError(
        f"{start} is not inside a git repository.",
        title="Repository root not found",
        fix="Run from a checkout, or pass the repository root.",
        reason="invalid-input",
    )
