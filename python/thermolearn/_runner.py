"""Finding and running the ``thermolearn`` command-line tool.

Every public function of the package runs one CLI command with ``--json`` and parses the single JSON object it
prints on stdout. Arrays travel as ``.npy`` files in a temporary folder that is removed afterwards, whatever
happens. The CLI is looked up, in this order, from

1. the environment variable ``THERMOLEARN_CLI`` (the ``thermolearn`` executable, or ``thermolearn.dll``, which is
   run with ``dotnet``);
2. ``thermolearn`` on ``PATH`` (the .NET tool: ``dotnet tool install --global --add-source ./artifacts thermolearn``);
3. the repository's Release build, ``src/ThermoLearn.Cli/bin/Release/net10.0/thermolearn.dll``, searched upwards
   from the current folder and from this package's folder (``dotnet build src/ThermoLearn.Cli -c Release``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

from .errors import CliError, CliNotFoundError, InvalidInputError

ENVIRONMENT_VARIABLE = "THERMOLEARN_CLI"
_BUILD = Path("src", "ThermoLearn.Cli", "bin", "Release", "net10.0")
EXIT_BAD_INPUT = 2


def _command_for(path: Path) -> List[str]:
    """The command line prefix that runs ``path`` (a .dll through ``dotnet``, else the file itself)."""
    if path.suffix.lower() == ".dll":
        dotnet = shutil.which("dotnet")
        if dotnet is None:
            raise CliNotFoundError(f"{path} needs the 'dotnet' host, which is not on PATH (install the .NET 10 runtime).")
        return [dotnet, str(path)]
    return [str(path)]


def _repository_builds() -> Iterator[Path]:
    starts = [Path.cwd(), Path(__file__).resolve().parent]
    seen = set()
    for start in starts:
        for folder in [start, *start.parents]:
            if folder in seen:
                continue
            seen.add(folder)
            dll = folder / _BUILD / "thermolearn.dll"
            if dll.is_file():
                yield dll


def find_cli() -> List[str]:
    """Locate the ``thermolearn`` command-line tool.

    Returns
    -------
    list of str
        The command prefix, e.g. ``['/usr/bin/dotnet', '/repo/src/ThermoLearn.Cli/bin/Release/net10.0/thermolearn.dll']``.

    Raises
    ------
    CliNotFoundError
        If ``THERMOLEARN_CLI`` names a missing file, or no tool is on ``PATH`` or in a repository build.
    """
    given = os.environ.get(ENVIRONMENT_VARIABLE)
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise CliNotFoundError(f"{ENVIRONMENT_VARIABLE}={given}: no such file (give the thermolearn executable or thermolearn.dll).")
        return _command_for(path.resolve())
    on_path = shutil.which("thermolearn")
    if on_path is not None:
        return [on_path]
    for dll in _repository_builds():
        return _command_for(dll)
    raise CliNotFoundError(
        "the thermolearn command-line tool was not found: set THERMOLEARN_CLI to the thermolearn executable or "
        "thermolearn.dll, install the .NET tool (it must be on PATH), or build the repository "
        "(dotnet build src/ThermoLearn.Cli -c Release) and run from inside it.")


def _cli_message(stderr: str) -> str:
    """The CLI's message: its ``error: ...`` lines without the prefix, else its last non-empty stderr line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line[len("error:"):].strip() for line in lines if line.startswith("error:")]
    if errors:
        return "\n".join(errors)
    return lines[-1] if lines else "no message on stderr"


def run_cli(args: Sequence[str], progress: bool = False) -> str:
    """Run one CLI command and return its stdout.

    Parameters
    ----------
    args : sequence of str
        The arguments after ``thermolearn``, e.g. ``['exact', '--model', 'linear', '--json']``.
    progress : bool, optional
        Echo the CLI's stderr (its progress lines) to ``sys.stderr`` while it runs.

    Returns
    -------
    str
        What the command printed on stdout.

    Raises
    ------
    InvalidInputError
        Exit code 2: the CLI refused the input; the exception's message is the CLI's.
    CliError
        Any other non-zero exit code.
    """
    return _execute(args, progress)[0]


def _execute(args: Sequence[str], progress: bool) -> Tuple[str, str]:
    """:func:`run_cli`, returning stdout and stderr."""
    command = find_cli() + [str(a) for a in args]
    env = dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               text=True, encoding="utf-8", errors="replace", env=env)
    stderr_lines: List[str] = []

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            stderr_lines.append(line)
            if progress:
                sys.stderr.write(line)
                sys.stderr.flush()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert process.stdout is not None
        stdout = process.stdout.read()
        code = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        reader.join()
        process.stdout.close()   # both pipes, at once: not left to the garbage collector (ResourceWarning)
        process.stderr.close()
    stderr = "".join(stderr_lines)
    if code != 0:
        kind = InvalidInputError if code == EXIT_BAD_INPUT else CliError
        raise kind(_cli_message(stderr), code, command, stderr)
    return stdout, stderr


def run_json(args: Sequence[str], progress: bool = False) -> dict:
    """Run a CLI command with ``--json`` appended and return the JSON object it prints."""
    return run_json_with_notes(args, progress)[0]


def run_json_with_notes(args: Sequence[str], progress: bool = False) -> Tuple[dict, List[str]]:
    """:func:`run_json`, with the CLI's ``note: ...`` lines on stderr (how it read the input), without the prefix."""
    stdout, stderr = _execute([*args, "--json"], progress)
    notes = [line.strip()[len("note:"):].strip() for line in stderr.splitlines() if line.strip().startswith("note:")]
    return _json_object(stdout, args), notes


def _json_object(stdout: str, args: Sequence[str]) -> dict:
    try:
        value = json.loads(stdout)
    except json.JSONDecodeError as e:
        raise CliError(f"the CLI printed no valid JSON ({e}); stdout began {stdout[:200]!r}", 0, list(args), "") from e
    if not isinstance(value, dict):
        raise CliError(f"the CLI printed JSON {type(value).__name__}, not an object", 0, list(args), "")
    return value


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A temporary folder, removed on exit (also after an error or an interrupt)."""
    folder = tempfile.mkdtemp(prefix="thermolearn-")
    try:
        yield Path(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
