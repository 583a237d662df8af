"""The package's functions: one CLI command each, run with ``--json``, returning a typed result.

Arguments left at ``None`` are not passed, so the CLI's own defaults apply (``thermolearn COMMAND --help`` lists them).
"""

from __future__ import annotations

import csv
import json
import os
import warnings
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from ._runner import run_json, run_json_with_notes, scratch_folder
from .errors import ThermoLearnError, ThermoLearnWarning
from .results import (ActiveEstimateResult, ActiveSimulationResult, BeliefAnalysis, EstimateResult, ExactResult, InferResult,
                      OptimizeResult, ProcessInfo, Protocol, ProtocolMeasurement, SimulationResult, TrainingResult, Trajectories,
                      as_ensemble, json_value, real_array)

PathLike = Union[str, "os.PathLike[str]"]
Data = Union[PathLike, np.ndarray, Trajectories, SimulationResult, ActiveSimulationResult]
Parameters = Optional[Union[Mapping[str, Any], Sequence[str]]]


def _set_options(params: Parameters) -> List[str]:
    """``--set name=value`` for each parameter; numbers and matrices as JSON (e.g. ``A=[[1,0.5],[-0.5,1]]``)."""
    if params is None:
        return []
    if isinstance(params, str):
        params = [params]   # one 'name=value', not a sequence of characters
    if isinstance(params, Mapping):
        items = []
        for name, value in params.items():
            if isinstance(value, str):
                text = value
            elif isinstance(value, (bool, np.bool_)):
                text = str(bool(value)).lower()
            else:
                try:
                    text = json.dumps(value, default=json_value)
                except TypeError as e:
                    raise TypeError(f"parameter {name}: {e}") from None
            items.append(f"{name}={text}")
    else:
        items = [str(p) for p in params]
    return [token for item in items for token in ("--set", item)]


def _flag(args: List[str], option: str, value: Any) -> None:
    """Appends ``option value`` when value is not None (lists comma-joined).

    A bool is refused: given to an option that takes a value (``bootstrap=True``), it used to become the bare flag, and
    the CLI took the next argument, ``--json``, for its value. Switches go through :func:`_switch`.
    """
    if value is None:
        return
    if isinstance(value, (bool, np.bool_)):
        name = option.lstrip("-").replace("-", "_")
        raise TypeError(f"{name}={value!r}: {name} takes a value (see {option} in the CLI's help), not True or False.")
    if isinstance(value, (list, tuple, np.ndarray)):
        args += [option, ",".join(_text(v) for v in value)]
    else:
        args += [option, _text(value)]


def _switch(args: List[str], option: str, on: Any) -> None:
    """Appends the switch ``option`` when ``on`` is true."""
    if on:
        args.append(option)


def _path(value: PathLike) -> str:
    """A path as the CLI should see it: ``~`` and ``~user`` expanded (no shell runs between Python and the CLI, so
    nothing else would expand them)."""
    return os.path.expanduser(os.fspath(value))


def _path_flag(args: List[str], option: str, value: Optional[PathLike]) -> None:
    """Appends ``option path`` (``~`` expanded) when value is not None."""
    if value is not None:
        args += [option, _path(value)]


def _text(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def _diffusion_text(diffusion: Any) -> str:
    """A diffusion coefficient (a number) or matrix (rows) as the CLI's --diffusion text; complex values refused."""
    d = real_array(diffusion, "diffusion")
    if d.ndim == 0:
        return _text(float(d))
    return json.dumps(d.astype(float).tolist())


def _write_input(data: Data, folder: Path, dt: Optional[float]) -> List[str]:
    """``--in FILE [--dt DT]`` for a path, an array (saved as .npy) or Trajectories (.npy with its provenance sidecar)."""
    if isinstance(data, SimulationResult):
        data = data.trajectories
    if isinstance(data, (str, os.PathLike)):
        path = _path(data)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such trajectory file.")
        return ["--in", path] + ([] if dt is None else ["--dt", _text(dt)])
    path = folder / "input.npy"
    if isinstance(data, ActiveSimulationResult):
        if dt is not None and not np.isclose(dt, data.frame_dt, rtol=1e-12, atol=0):
            raise ValueError(f"dt={dt} disagrees with the snapshots' frame spacing {data.frame_dt}; leave dt out.")
        np.save(path, data.snapshots)
        Path(str(path) + ".json").write_text(json.dumps(data.sidecar), encoding="utf-8")
        return ["--in", str(path)]
    if isinstance(data, Trajectories):
        if dt is not None and not np.isclose(dt, data.dt, rtol=1e-12, atol=0):
            raise ValueError(f"dt={dt} disagrees with the trajectories' frame spacing {data.dt}; leave dt out.")
        np.save(path, data.x)
        Path(str(path) + ".json").write_text(json.dumps(data.sidecar()), encoding="utf-8")
        return ["--in", str(path)]
    if dt is None:
        raise ValueError("an array of trajectories needs dt, the time between frames (e.g. estimate(x, dt=0.01)).")
    np.save(path, as_ensemble(data))
    return ["--in", str(path), "--dt", _text(dt)]


def _in_memory(data: Data) -> Optional[str]:
    """What the CLI's ``input`` should say for data passed from memory (None for a path): ``'<numpy array (shape)>'`` or
    ``'<Trajectories (shape)>'``; the temporary file it read is removed when the call returns."""
    if isinstance(data, SimulationResult):
        data = data.trajectories
    if isinstance(data, (str, os.PathLike)):
        return None
    if isinstance(data, Trajectories):
        return f"<Trajectories {tuple(data.x.shape)}>"
    if isinstance(data, ActiveSimulationResult):
        return f"<ActiveSimulationResult {tuple(data.snapshots.shape)}>"
    return f"<numpy array {tuple(np.shape(data))}>"


def _run_on_data(args: List[str], folder: Path, data: Data, progress: bool = False) -> dict:
    """``run_json``, with the temporary file an array was saved to named as the data in the CLI's messages and in its JSON
    (``input`` says ``'<numpy array (shape)>'``, not a path that is gone when the call returns); the CLI's notes on how it
    read a file (e.g. a 2-D .npy as trajectories x frames of one coordinate) are issued as :class:`ThermoLearnWarning`
    (on stderr a notebook never shows them)."""
    saved = str(folder / "input.npy")
    described = _in_memory(data)

    def named(message: str) -> str:
        return message.replace(saved + ".json", "the data's provenance").replace(saved, "the data")

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            return described if value == saved and described is not None else named(value)
        if isinstance(value, list):
            return [rename(v) for v in value]
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        return value

    try:
        result, notes = run_json_with_notes(args, progress=progress)
    except ThermoLearnError as e:
        if saved not in e.message:
            raise
        raise type(e)(named(e.message), e.returncode, e.command, e.stderr) from None
    for note in notes:
        warnings.warn(named(note), ThermoLearnWarning, stacklevel=3)
    return rename(result) if described is not None else result


def _issue(listed: List[Dict[str, Any]]) -> None:
    """Each of a result's warnings as a :class:`ThermoLearnWarning` at the caller's line (the CLI writes them on stderr
    too, which a notebook never shows)."""
    for w in listed:
        warnings.warn(str(w.get("message", w)), ThermoLearnWarning, stacklevel=3)


def _read_energetics(path: Path) -> Dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    return {name: np.array([float(r[i]) for r in body]) for i, name in enumerate(header)}


def simulate(model: str, *, trajectories: Optional[int] = None, steps: int, dt: float, save_every: int = 1, seed: int = 0,
             params: Parameters = None, scheme: Optional[str] = None, threads: Optional[int] = None,
             energetics: bool = False, burn_in: Optional[int] = None,
             initial: Optional[Union[PathLike, np.ndarray]] = None, out: Optional[PathLike] = None,
             shard: Optional[str] = None, progress: bool = False) -> Union[SimulationResult, ActiveSimulationResult]:
    """Simulate trajectories of a catalogue model with per-trajectory energetics, or snapshots of an active-matter model.

    Parameters
    ----------
    model : str
        Model name (``thermolearn models`` lists them), e.g. ``'driven-trap-2d'``; ``'aoup'`` and ``'abp'`` are the
        active-matter models (one system of ``n`` particles, returned as an :class:`ActiveSimulationResult`).
    trajectories : int
        Number of trajectories (required, except for the active models, which simulate one system of ``n`` particles:
        set ``n`` in ``params``).
    steps : int
        Integration steps per trajectory (active models: after the burn-in).
    dt : float
        Integration step; frames are saved every ``save_every`` steps (frame spacing ``dt * save_every``).
    seed : int, optional
        Trajectory i (active models: particle i) uses the random streams of (seed, i): same seed, same numbers, whatever
        the thread count.
    params : dict or list of str, optional
        Model parameters, e.g. ``{'n': 5}`` or ``{'A': [[1, 0.5], [-0.5, 1]]}``; for ``'aoup'`` e.g.
        ``{'n': 1024, 'phi': 0.5, 'v0': 1, 'gamma': 1}`` (``thermolearn models`` lists each model's).
    scheme : str, optional
        ``'exact'`` (default for linear models, e.g. ``'linear'`` and ``'driven-trap-2d'``: no integrator bias in the
        positions at any dt), ``'euler-maruyama'`` (default for the other overdamped models), ``'heun'`` (weak order 2) or
        ``'baoab'`` (underdamped models, their default). Jump processes are sampled exactly. ``result.scheme`` says which
        was used. Not for the active models (they have their own integrator: docs/active-matter.md).
    energetics : bool, optional
        Also return the per-trajectory work, heat, energy change and medium entropy (not for the active models).
    burn_in : int, optional
        Active models: steps discarded before the first frame (default 0).
    initial : array or path, optional
        Active models: the initial state, shape (n, d + active columns): positions, then g (aoup) or theta (abp); by
        default particles start on a lattice with the active state drawn from its stationary law.
    out : path, optional
        Keep the trajectories (or snapshots) in this ``.npy`` file (with its ``.npy.json`` sidecar); by default they live
        only in memory.
    shard : str, optional
        ``'k/N'``: simulate only part k of N of the ``trajectories`` (the same numbers as those trajectories of the whole
        run; ``result.first_trajectory`` says where the part starts); merge the parts' files with ``thermolearn merge``.

    Returns
    -------
    SimulationResult or ActiveSimulationResult
        ``trajectories.x`` of shape (trajectories, frames, dimension), exact EP rate, mean work/heat with stderr (None
        for jump processes, which have no energetics). For ``'aoup'``/``'abp'``: ``x`` (frames, particles, d) and ``g``
        (aoup, same shape) or ``theta`` (abp, (frames, particles)), ``frame_dt``, ``box``.

    Examples
    --------
    >>> sim = tl.simulate('driven-trap-2d', trajectories=200, steps=10000, dt=0.001, save_every=10, seed=1)
    >>> sim.exact_ep_rate
    0.18000000000000016
    >>> mips = tl.simulate('aoup', params={'n': 256, 'phi': 0.5}, steps=1000, dt=0.01, save_every=100, burn_in=1000, seed=1)
    >>> mips.x.shape, mips.g.shape
    ((11, 256, 2), (11, 256, 2))
    """
    if out is not None and not _path(out).lower().endswith(".npy"):
        raise ValueError(f"out={out}: the Python interface keeps trajectories as .npy (convert with 'thermolearn convert').")
    with scratch_folder() as folder:
        path = Path(_path(out)) if out is not None else folder / "trajectories.npy"
        args = ["simulate", "--model", model, *_set_options(params)]
        _flag(args, "--trajectories", trajectories)
        args += ["--steps", str(steps), "--dt", _text(dt), "--save-every", str(save_every), "--seed", str(seed),
                 "--out", str(path)]
        _flag(args, "--scheme", scheme)
        _flag(args, "--threads", threads)
        _flag(args, "--shard", shard)
        _flag(args, "--burn-in", burn_in)
        if initial is not None:
            if isinstance(initial, (str, os.PathLike)):
                _path_flag(args, "--initial", initial)
            else:
                state = np.ascontiguousarray(real_array(initial, "the initial state"), dtype=np.float64)
                np.save(folder / "initial.npy", state)
                args += ["--initial", str(folder / "initial.npy")]
        energy_path = folder / "energetics.csv"
        if energetics:
            args += ["--energetics", str(energy_path)]
        d = run_json(args, progress=progress)
        x = np.load(path)
        sidecar = json.loads(Path(str(path) + ".json").read_text(encoding="utf-8"))
        table = _read_energetics(energy_path) if energetics and energy_path.exists() else None
    if out is None:   # the temporary file is gone: say where the frames are instead
        d["output"] = "<in memory: result.snapshots>" if "particles" in d else "<in memory: result.trajectories>"
    if isinstance(d.get("energetics"), str) and d["energetics"] == str(energy_path):
        d["energetics"] = "<in memory: result.energetics>"
    if sidecar.get("format") == "thermolearn-active-snapshots":
        return ActiveSimulationResult.from_json(d, x, sidecar)
    data = Trajectories(x, float(sidecar["dt"]), float(sidecar.get("start_time") or 0.0), sidecar.get("model"),
                        sidecar.get("parameters"), sidecar.get("seed"), sidecar.get("scheme"), sidecar.get("integration_dt"))
    return SimulationResult.from_json(d, data, table)


def exact(model: str, *, params: Parameters = None, at: Optional[float] = None) -> ExactResult:
    """A model's exact entropy production: the rate at time ``at`` and, with a protocol, the total over [0, tau].

    Parameters
    ----------
    model : str
        Model name, e.g. ``'bead-spring'``.
    params : dict or list of str, optional
        Model parameters, e.g. ``{'n': 5}``.
    at : float, optional
        Time at which to evaluate the rate (default 0).

    Returns
    -------
    ExactResult
    """
    args = ["exact", "--model", model, *_set_options(params)]
    _flag(args, "--at", at)
    return ExactResult.from_json(run_json(args))


def estimate(data: Data, *, dt: Optional[float] = None, method: Optional[str] = None, basis: Optional[str] = None,
             diffusion: Optional[Union[float, str, Sequence[Sequence[float]]]] = None, windows: Optional[int] = None,
             time_degree: Optional[int] = None, joint: bool = False, correction: Optional[str] = None,
             basis_check: Optional[str] = None, noise_robust: bool = False,
             columns: Optional[Sequence[int]] = None, batches: Optional[int] = None, bootstrap: Optional[int] = None,
             seed: Optional[int] = None, hidden: Optional[str] = None, epochs: Optional[int] = None,
             batch: Optional[int] = None, lr: Optional[float] = None, folds: Optional[int] = None,
             threads: Optional[int] = None, plot: Optional[PathLike] = None, save_model: Optional[PathLike] = None,
             load_model: Optional[PathLike] = None, progress: bool = False) -> Union[EstimateResult, ActiveEstimateResult]:
    """Estimate the entropy-production rate of trajectories, with a calibrated standard error.

    Parameters
    ----------
    data : array, Trajectories, SimulationResult, ActiveSimulationResult or path
        An array of shape (trajectories, frames, dimension), or (frames,) for one scalar trajectory, with ``dt``; a 2-D
        array is refused as ambiguous: pass ``x[None]`` for one trajectory of (frames, dimension), ``x[:, :, None]`` for
        (trajectories, frames) of one coordinate (how the CLI reads a 2-D .npy file, which it says in a
        :class:`ThermoLearnWarning`). Values must be real numbers (float or integer). Or a result of :func:`simulate`
        (its provenance gives the exact rate), or a trajectory file (.npy, .csv, .h5, .parquet). Active-matter snapshots
        (``simulate('aoup' or 'abp', ...)``, or their .npy file) give an :class:`ActiveEstimateResult`.
    dt : float, optional
        Time between frames; required for a plain array, optional for a file that stores it.
    method : str, optional
        ``'current'`` (default; linear basis, coarse-sampling corrected), ``'tur'`` (short-time TUR lower bound),
        ``'jump'``, ``'underdamped'``, ``'neural-current'`` or ``'neep'``.
    basis : str, optional
        Linear basis, e.g. ``'poly:1'``, ``'poly:2'`` (default), ``'fourier:3'``, ``'rbf:10'``.
    diffusion : float, matrix or str, optional
        A number, a matrix, ``'auto'`` (default) or ``'auto-robust'``.
    noise_robust : bool, optional
        ``method='tur'`` only: the positions carry white measurement noise, whose share (its covariance told from successive
        increments) is removed from the currents' variance; without it the noise biases the bound low.
    windows : int, optional
        sigma(t) on this many time windows (non-stationary data); see ``result.windows``.
    basis_check : str, optional
        ``method='current'`` on stationary data: refit in a richer basis on the same data and warn (``basis_short``) when
        it gains beyond doubt and beyond the error bar, i.e. when the basis does not span the thermodynamic force:
        ``'auto'`` (default; the next of the family: poly:N+2, fourier:K+2, rbf:M+2), ``'none'``, or a basis.
        ``result.basis_check`` holds it.
    hidden, epochs, batch, lr, folds, threads : optional
        Neural methods: network size (e.g. ``'2x64'``) and training settings; ``seed`` seeds weights, folds and batches.
    plot : path, optional
        Write a figure (.png/.svg): sigma(t), the learned field, or a neural method's training curve.

    Returns
    -------
    EstimateResult or ActiveEstimateResult
        ``ep_rate`` (a :class:`Measured`: ``.value``, ``.stderr``), ``exact_ep_rate`` when known, ``quantity`` when named,
        ``exact_verdict`` and ``exact_difference_z`` against the exact value of the quantity, ``basis_check``,
        ``warnings`` (each also issued as a :class:`ThermoLearnWarning`) when the data put the estimate in doubt;
        ``method='jump'`` also ``continuous``, ``sampled_chain``, ``richardson_lags_1_3`` (:class:`JumpEstimate`),
        ``generator``, ``deviance``. For active-matter snapshots (``simulate('aoup' or 'abp', ...)``) an
        :class:`ActiveEstimateResult`: ``ep_rate`` of the whole system, ``identity_ep_rate`` (identity 4) and
        ``difference_from_identity``, ``stationarity``.

    Raises
    ------
    InvalidInputError
        When the CLI refuses the data or options (its message says what and where).
    """
    with scratch_folder() as folder:
        args = ["estimate", *_write_input(data, folder, dt)]
        _flag(args, "--method", method)
        _flag(args, "--basis", basis)
        if diffusion is not None:
            args += ["--diffusion", diffusion if isinstance(diffusion, str) else _diffusion_text(diffusion)]
        _flag(args, "--windows", windows)
        _flag(args, "--time-degree", time_degree)
        _switch(args, "--joint", joint)
        _flag(args, "--correction", correction)
        _flag(args, "--basis-check", basis_check)
        _switch(args, "--noise-robust", noise_robust)
        _flag(args, "--columns", columns)
        _flag(args, "--batches", batches)
        _flag(args, "--bootstrap", bootstrap)
        _flag(args, "--seed", seed)
        _flag(args, "--hidden", hidden)
        _flag(args, "--epochs", epochs)
        _flag(args, "--batch", batch)
        _flag(args, "--lr", lr)
        _flag(args, "--folds", folds)
        _flag(args, "--threads", threads)
        _path_flag(args, "--plot", plot)
        _path_flag(args, "--save-model", save_model)
        _path_flag(args, "--load-model", load_model)
        d = _run_on_data(args, folder, data, progress=progress)
        result = ActiveEstimateResult.from_json(d) if "particles" in d else EstimateResult.from_json(d)
    _issue(result.warnings)
    return result


def infer(data: Data, *, dt: Optional[float] = None, basis: Optional[str] = None, noise_robust: bool = False,
          correction: Optional[str] = None, columns: Optional[Sequence[int]] = None, batches: Optional[int] = None, bootstrap: Optional[int] = None,
          seed: Optional[int] = None, plot: Optional[PathLike] = None) -> InferResult:
    """Infer drift (force), diffusion, score and mean local velocity from trajectories, with standard errors.

    Parameters
    ----------
    data : array, Trajectories, SimulationResult or path
        As for :func:`estimate`.
    dt : float, optional
        Time between frames (required for a plain array).
    basis : str, optional
        Basis of the fields (default ``'poly:1'``); ``result.functions`` names its functions.
    noise_robust : bool, optional
        Remove white measurement noise on the positions (its covariance, from successive increments, is returned as
        ``measurement_noise``) from all four fields: for Gaussian noise and a ``poly`` or ``fourier`` basis its share is
        removed exactly (for ``fourier`` at the price of noise amplified by up to ``measurement_noise_amplification``, warned
        above 3); with ``rbf`` the coefficients of non-affine functions keep a bias of the order of the noise variance.
    correction : str, optional
        Coarse-sampling correction: ``'richardson'`` (the CLI's default: the continuous-time fields from lags 1 and 2, the
        lag-dt ones kept as ``drift_uncorrected``, ...) or ``'none'`` (the lag-dt fields).

    Returns
    -------
    InferResult
        ``drift.coefficients`` of shape (functions, dimension) with ``drift.stderr`` beside it; ``diffusion`` matrix;
        ``warnings`` (each also issued as a :class:`ThermoLearnWarning`) when the data put the fields in doubt.
    """
    with scratch_folder() as folder:
        args = ["infer", *_write_input(data, folder, dt)]
        _flag(args, "--basis", basis)
        _switch(args, "--noise-robust", noise_robust)
        _flag(args, "--correction", correction)
        _flag(args, "--columns", columns)
        _flag(args, "--batches", batches)
        _flag(args, "--bootstrap", bootstrap)
        _flag(args, "--seed", seed)
        _path_flag(args, "--plot", plot)
        result = InferResult.from_json(_run_on_data(args, folder, data))
    _issue(result.warnings)
    return result


def optimize(task: str, *, tau: float, settings: Parameters = None, alpha: Optional[float] = None,
             knots: Optional[int] = None, basis: Optional[str] = None, iterations: Optional[int] = None,
             trajectories: Optional[int] = None, learning_rate: Optional[float] = None, seed: Optional[int] = None,
             out: Optional[PathLike] = None, plot: Optional[PathLike] = None, progress: bool = False) -> OptimizeResult:
    """Optimise a control protocol minimising ``<W> + alpha * error`` from likelihood-ratio gradients.

    Parameters
    ----------
    task : str
        ``'translate-trap'`` (exact optimum: Schmiedl-Seifert), ``'erase'`` (Landauer and finite-time bounds) or
        ``'flip-underdamped'``.
    tau : float
        Protocol duration.
    settings : dict or list of str, optional
        Task settings, e.g. ``{'k': 1, 'barrier': 4, 'steps': 1000}``.
    alpha, knots, basis, iterations, trajectories, learning_rate, seed : optional
        Objective weight, protocol family (``'piecewise-linear'`` or ``'sine'``) and optimiser settings.
    out : path, optional
        Write the protocol (JSON) for ``thermolearn evaluate-protocol``.

    Returns
    -------
    OptimizeResult
        ``work``, ``error`` (:class:`Measured`), ``baseline`` (the linear ramp on the same paths), ``references``
        (e.g. ``optimum_work``, ``finite_time_bound``), ``protocol.t`` and ``protocol.lam``.
    """
    args = ["optimize", "--task", task, "--tau", _text(tau), *_set_options(settings)]
    _flag(args, "--alpha", alpha)
    _flag(args, "--knots", knots)
    _flag(args, "--basis", basis)
    _flag(args, "--iterations", iterations)
    _flag(args, "--trajectories", trajectories)
    _flag(args, "--learning-rate", learning_rate)
    _flag(args, "--seed", seed)
    _path_flag(args, "--out", out)
    _path_flag(args, "--plot", plot)
    return OptimizeResult.from_json(run_json(args, progress=progress))


def evaluate_protocol(task: str, protocol: Union[PathLike, Protocol, OptimizeResult], *, settings: Parameters = None,
                      alpha: Optional[float] = None, trajectories: Optional[int] = None, seed: Optional[int] = None,
                      progress: bool = False) -> ProtocolMeasurement:
    """Measure a protocol's mean work and error on fresh trajectories, next to the linear ramp on the same paths.

    Parameters
    ----------
    task : str
        ``'translate-trap'``, ``'erase'`` or ``'flip-underdamped'``.
    protocol : path, Protocol or OptimizeResult
        A protocol file written by :func:`optimize` (``out=``), the result of :func:`optimize` (its ``protocol`` with its
        ``settings``), or a :class:`Protocol` (e.g. one made by hand: its samples ``t``, ``lam`` are what is measured).
    settings : dict or list of str, optional
        Task settings overriding the protocol's own (e.g. ``{'k': 1, 'steps': 1000}``).
    alpha : float, optional
        Weight of the error in the reported objective (the task's default if omitted).
    trajectories : int, optional
        Trajectories to measure (default 100000).
    seed : int, optional
        Random seed (default 1001); use one not used for the optimisation.

    Returns
    -------
    ProtocolMeasurement
        ``work``, ``error``, ``objective`` (:class:`Measured`, extrapolated to dt -> 0), ``work_at_dt`` and
        ``work_step_bias`` (the chain at the task's dt = tau / ``steps``), ``references`` (e.g. ``linear_ramp_work``,
        ``optimum_work``), and ``baseline``, the linear ramp measured on the same paths.
    """
    with scratch_folder() as folder:
        if isinstance(protocol, (str, os.PathLike)):
            path = _path(protocol)
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path}: no such protocol file.")
        elif isinstance(protocol, (Protocol, OptimizeResult)):
            samples = protocol.protocol if isinstance(protocol, OptimizeResult) else protocol
            t = real_array(samples.t, "the protocol's times t").astype(float).ravel()
            lam = real_array(samples.lam, "the protocol's values lam").astype(float)
            if lam.ndim == 1:
                lam = lam[:, None]
            if t.size < 2 or lam.ndim != 2 or lam.shape[0] != t.size:
                raise ValueError(f"the protocol needs at least 2 samples, lam of shape (len(t), controls); got t of {t.size} "
                                 f"samples and lam of shape {lam.shape}.")
            document = {"task": task, "tau": float(t[-1]), "controls": list(samples.controls), "t": t.tolist(),
                        "lambda": lam.tolist()}
            if isinstance(protocol, OptimizeResult):
                document["settings"] = protocol.settings
            path = str(folder / "protocol.json")
            Path(path).write_text(json.dumps(document, allow_nan=False), encoding="utf-8")
        else:
            raise TypeError(f"protocol: give a protocol file, a Protocol or an OptimizeResult (got {type(protocol).__name__}).")
        args = ["evaluate-protocol", "--task", task, "--protocol", path, *_set_options(settings)]
        _flag(args, "--alpha", alpha)
        _flag(args, "--trajectories", trajectories)
        _flag(args, "--seed", seed)
        d = run_json(args, progress=progress)
    if not isinstance(protocol, (str, os.PathLike)):
        d["protocol_file"] = "<in memory>"
    return ProtocolMeasurement.from_json(d)


def process_info(process: str, *, params: Parameters = None, depth: Optional[int] = None, n_ctx: Optional[int] = None,
                 tolerance: Optional[float] = None) -> ProcessInfo:
    """Exact information measures of a hidden Markov process.

    Parameters
    ----------
    process : str
        ``'mess3'``, ``'rrxor'``, ``'z1r'``, ``'tom_quantum'``, a product such as ``'mess3*mess3'``, or a JSON file.
    params : dict or list of str, optional
        Process parameters, e.g. ``{'x': 0.05, 'a': 0.85}`` (``'1:a'`` for factor 1 only).
    depth, n_ctx, tolerance : optional
        Mixed-state depth, context length of the cross-entropy floor, belief-identity tolerance.

    Returns
    -------
    ProcessInfo
        ``entropy_rate`` (bits/token), ``excess_entropy``, ``statistical_complexity``, ``ce_floor_nats``, ...
    """
    args = ["process", "info", "--process", _path(process), *_set_options(params)]
    _flag(args, "--depth", depth)
    _flag(args, "--n-ctx", n_ctx)
    _flag(args, "--tolerance", tolerance)
    return ProcessInfo.from_json(run_json(args))


def beliefs_train(process: str, out: PathLike, *, params: Parameters = None, tokens: Optional[int] = None,
                  max_seconds: Optional[float] = None, seed: Optional[int] = None, layers: Optional[int] = None,
                  d_model: Optional[int] = None, heads: Optional[int] = None, d_head: Optional[int] = None,
                  d_mlp: Optional[int] = None, n_ctx: Optional[int] = None, optimizer: Optional[str] = None,
                  lr: Optional[float] = None, batch: Optional[int] = None, checkpoints: Optional[Iterable[int]] = None,
                  validate_every: Optional[float] = None, validation_sequences: Optional[int] = None,
                  threads: Optional[int] = None, progress: bool = False) -> TrainingResult:
    """Train a decoder-only transformer on sequences of a process; the run folder ``out`` holds its checkpoints.

    Parameters
    ----------
    process : str
        As for :func:`process_info`.
    out : path
        Run folder to create (must not exist, or be empty).
    tokens : int, optional
        Training budget in tokens (reproducible for a given seed); ``max_seconds`` instead bounds wall time
        (default 300 s when neither is given).
    checkpoints : list of int, optional
        Token counts at which to save the model (the end is always saved).

    Returns
    -------
    TrainingResult
        ``val_ce``, ``ce_floor_nats`` and ``gap_nats`` (nats), tokens per second, checkpoints.
    """
    args = ["beliefs", "train", "--process", _path(process), *_set_options(params), "--out", _path(out)]
    for option, value in (("--tokens", tokens), ("--max-seconds", max_seconds), ("--seed", seed), ("--layers", layers),
                          ("--d-model", d_model), ("--heads", heads), ("--d-head", d_head), ("--d-mlp", d_mlp),
                          ("--n-ctx", n_ctx), ("--optimizer", optimizer), ("--lr", lr), ("--batch", batch),
                          ("--validate-every", validate_every), ("--validation-sequences", validation_sequences),
                          ("--threads", threads)):
        _flag(args, option, value)
    if checkpoints is not None:
        args += ["--checkpoints", ",".join(str(int(c)) for c in checkpoints)]
    return TrainingResult.from_json(run_json(args, progress=progress))


def beliefs_analyze(run: Union[PathLike, TrainingResult], *, plot_dir: Optional[PathLike] = None,
                    seed: Optional[int] = None, threads: Optional[int] = None, progress: bool = False) -> BeliefAnalysis:
    """Belief geometry of a trained run: regression of exact beliefs on each residual stream, PCA, controls.

    Parameters
    ----------
    run : path or TrainingResult
        The run folder written by :func:`beliefs_train`.
    plot_dir : path, optional
        Folder for figures (belief simplex, explained variance, metrics over training).

    Returns
    -------
    BeliefAnalysis
        ``r2_final``, ``val_ce`` (with stderr), ``gap_nats``, ``layers``, ``plots``.
    """
    folder = run.run if isinstance(run, TrainingResult) else _path(run)
    args = ["beliefs", "analyze", "--run", folder]
    _path_flag(args, "--plot-dir", plot_dir)
    _flag(args, "--seed", seed)
    _flag(args, "--threads", threads)
    return BeliefAnalysis.from_json(run_json(args, progress=progress))


def report(results: Iterable[Any], out: PathLike, *, title: Optional[str] = None) -> Dict[str, Any]:
    """Render results (or JSON dicts) as one self-contained HTML page with ``thermolearn report``.

    Parameters
    ----------
    results : iterable
        Results of this package's functions (their ``json``), or dicts in the CLI's ``--json`` form.
    out : path
        The ``.html`` page to write.
    title : str, optional
        Page title.

    Returns
    -------
    dict
        The report command's JSON: ``output``, ``measurements``, ``figures``, ``bytes``.
    """
    with scratch_folder() as folder:
        paths = []
        for i, result in enumerate(results):
            d = result if isinstance(result, Mapping) else getattr(result, "json", None)
            if not isinstance(d, Mapping):
                raise TypeError(f"report: item {i} is a {type(result).__name__}; give results of this package's functions "
                                "(e.g. tl.estimate(...)) or dicts in the CLI's --json form.")
            path = folder / f"{i:02d}-{type(result).__name__.lower()}.json"
            path.write_text(json.dumps(d), encoding="utf-8")
            paths.append(str(path))
        if not paths:
            raise ValueError("report: no results to render; give at least one result (e.g. tl.report([est], 'r.html')).")
        args = ["report", "--in", *paths, "--out", _path(out)]
        _flag(args, "--title", title)
        return run_json(args)
