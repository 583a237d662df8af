"""Exceptions raised when the ``thermolearn`` command-line tool refuses or fails a command."""

from __future__ import annotations

from typing import Sequence


class ThermoLearnError(RuntimeError):
    """The CLI exited with a non-zero code.

    Attributes
    ----------
    message : str
        The CLI's own message (its ``error: ...`` lines without the prefix, or its last stderr line).
    returncode : int
        The CLI's exit code: 2 for bad input, 1 for an internal error or a missing libtorch.
    command : list of str
        The command line that was run.
    stderr : str
        Everything the CLI wrote on stderr (progress lines included).
    """

    def __init__(self, message: str, returncode: int, command: Sequence[str], stderr: str):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.command = list(command)
        self.stderr = stderr


class InvalidInputError(ThermoLearnError, ValueError):
    """The CLI refused its input (exit code 2): a bad option, value or file. Nothing was written."""


class CliError(ThermoLearnError):
    """The CLI failed for another reason (exit code 1 or a crash), e.g. libtorch missing on this machine."""


class ThermoLearnWarning(UserWarning):
    """The CLI doubts a premise of a result it returned (e.g. frames too far apart for the coarse-sampling
    correction; the result's ``warnings`` holds the details: ``id``, ``message``, ...), or notes how it read an input
    file (e.g. a 2-D .npy as trajectories x frames of one coordinate)."""


class CliNotFoundError(FileNotFoundError):
    """No ``thermolearn`` executable was found (see :func:`thermolearn.find_cli`)."""
