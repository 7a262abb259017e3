"""What can be checked of the deployment files without a container engine or a cluster: the
Dockerfile copies files that exist and runs the project's console script, and every example in
docs/operations.md parses and names commands and options pmo-sync really has."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path

import click
import pytest
import yaml

from pmosync.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operations.md"
INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_dockerfile_parses_and_copies_what_exists() -> None:
    instructions = _instructions()
    assert instructions[0][0] == "FROM"
    assert {k for k, _ in instructions} <= INSTRUCTIONS
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()
    }
    for keyword, rest in instructions:
        if keyword == "COPY" and not rest.startswith("--from"):
            *sources, _dest = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the repo"
                assert source not in ignored, f"COPY {source} is excluded by .dockerignore"
        if keyword == "FROM":
            image = rest.split()[0]
            version = re.search(r"python:(\d+)\.(\d+)", image)
            assert version, f"{image}: not an official Python image"
            minimum = re.search(r">=(\d+)\.(\d+)", pyproject["project"]["requires-python"])
            assert minimum is not None
            assert tuple(map(int, version.groups())) >= tuple(map(int, minimum.groups()))
    # it installs this project with an extra that exists, and runs its console script
    runs = " ".join(rest for k, rest in instructions if k == "RUN")
    assert (
        "pmo-sync[postgres]" in runs and "postgres" in pyproject["project"]["optional-dependencies"]
    )
    [entrypoint] = [rest for k, rest in instructions if k == "ENTRYPOINT"]
    assert entrypoint == '["pmo-sync"]' and "pmo-sync" in pyproject["project"]["scripts"]
    [cmd] = [rest for k, rest in instructions if k == "CMD"]
    assert cmd == '["sync"]' and "sync" in main.commands
    user = [rest for k, rest in instructions if k == "USER"]
    assert user and user[-1] not in ("root", "0")


def test_the_systemd_units_parse_and_run_a_real_command() -> None:
    units = {}
    for block in _blocks("ini"):
        parser = configparser.ConfigParser(strict=True, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(block)
        units[tuple(parser.sections())] = parser
    service = units[("Unit", "Service")]
    timer = units[("Unit", "Timer", "Install")]
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"].startswith("/opt/pmo-sync/venv/bin/pmo-sync ")
    assert "7" in service["Service"]["SuccessExitStatus"].split()
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"


def test_the_kubernetes_manifests_parse() -> None:
    documents = [d for block in _blocks("yaml") for d in yaml.safe_load_all(block) if d]
    kinds = {d.get("kind"): d for d in documents}
    cronjob = kinds["CronJob"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    [container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"][0]["secretRef"]["name"] == kinds["Secret"]["metadata"]["name"]
    assert "PMOSYNC_STORE_URL" in kinds["Secret"]["stringData"]
    config = next(d for d in documents if "store" in d)
    assert config["store"]["url_env"] == "PMOSYNC_STORE_URL"
    _check_invocation(["pmo-sync", *container["args"]])


def _invocations() -> list[list[str]]:
    """Every pmo-sync command line in the document's shell, cron and ini examples."""
    found = []
    for block in _blocks("sh") + _blocks("cron") + _blocks("ini"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0]
            for part in re.split(r"&&|;|\|", line):
                words = shlex.split(part.replace("ExecStart=", ""), comments=True)
                if words and words[0] == "sudo":
                    words = words[1:]
                if words and (words[0] == "pmo-sync" or words[0].endswith("/bin/pmo-sync")):
                    found.append(["pmo-sync", *words[1:]])
    return found


def _check_invocation(words: list[str]) -> None:
    """The command path exists and every --option given is one it takes."""
    command: click.Command = main
    ctx_args = words[1:]
    path: list[str] = []
    i = 0
    while i < len(ctx_args):
        word = ctx_args[i]
        params = {o for p in command.params for o in p.opts}
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            assert name in params, f"{' '.join(words)}: {name} is not an option of {path}"
            option = next(p for p in command.params if name in p.opts)
            if isinstance(option, click.Option) and not option.is_flag and option.count is False:
                i += 1  # its value
        elif isinstance(command, click.Group) and word in command.commands:
            command = command.commands[word]
            path.append(word)
        i += 1
    assert path, f"{' '.join(words)}: names no pmo-sync command"


@pytest.mark.parametrize("words", _invocations(), ids=lambda w: " ".join(w)[:60])
def test_every_command_line_in_the_document_exists(words: list[str]) -> None:
    _check_invocation(words)


def test_the_document_has_the_command_lines_it_promises() -> None:
    lines = {" ".join(w[:3]) for w in _invocations()}
    for expected in ("pmo-sync init", "pmo-sync doctor", "pmo-sync outbox list"):
        assert any(line.startswith(expected) for line in lines), expected
