"""ThermoLearn from Python: the ``thermolearn`` command-line tool behind typed, numpy-based functions.

>>> import thermolearn as tl
>>> sim = tl.simulate('driven-trap-2d', trajectories=200, steps=10000, dt=0.001, save_every=10, seed=1)
>>> est = tl.estimate(sim, basis='poly:1')
>>> est.ep_rate.value, est.ep_rate.stderr, est.exact_ep_rate

Each function runs one CLI command with ``--json`` (arrays travel as .npy files in a temporary folder that is
removed afterwards; paths may start with ``~``) and returns a dataclass; a value with a standard error is a :class:`Measured`. A refused input
raises :class:`InvalidInputError` (CLI exit code 2) carrying the CLI's message; other failures raise
:class:`CliError`. The CLI is found from ``THERMOLEARN_CLI``, ``PATH`` or the repository's Release build
(:func:`find_cli`). See docs/python.md.
"""

from ._runner import find_cli, run_cli, run_json
from .api import (beliefs_analyze, beliefs_train, estimate, evaluate_protocol, exact, infer, optimize, process_info, report,
                  simulate)
from .errors import CliError, CliNotFoundError, InvalidInputError, ThermoLearnError, ThermoLearnWarning
from .results import (ActiveEstimateResult, ActiveSimulationResult, BasisCheck, BeliefAnalysis, EstimateResult, ExactResult, Field, InferResult,
                      JumpEstimate, LayerGeometry, Measured, OptimizeResult, ProcessInfo, Protocol, ProtocolMeasurement, RateWindows,
                      SimulationResult, TrainingResult, Trajectories)

__version__ = "0.1.0"

__all__ = [
    "simulate", "exact", "estimate", "infer", "optimize", "evaluate_protocol", "process_info", "beliefs_train", "beliefs_analyze", "report",
    "find_cli", "run_cli", "run_json",
    "ThermoLearnError", "InvalidInputError", "CliError", "CliNotFoundError", "ThermoLearnWarning",
    "Measured", "Trajectories", "SimulationResult", "ActiveSimulationResult", "ExactResult", "EstimateResult", "BasisCheck",
    "JumpEstimate", "ActiveEstimateResult", "RateWindows", "InferResult", "Field",
    "OptimizeResult", "ProtocolMeasurement", "Protocol", "ProcessInfo", "TrainingResult", "BeliefAnalysis",
    "LayerGeometry",
]
