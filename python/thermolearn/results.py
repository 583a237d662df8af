"""Typed results of the CLI's ``--json`` objects.

Each result keeps the values it names as attributes (numbers as ``float``, arrays as ``numpy.ndarray``, a value
with a standard error as :class:`Measured`), every key it does not name in ``extra`` (the CLI may gain keys), and
the whole object in ``json`` (what :func:`thermolearn.report` renders).
"""

from __future__ import annotations

import json
import math
import operator
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import numpy as np


@dataclass(frozen=True)
class Measured:
    """A measured value with its standard error.

    Attributes
    ----------
    value : float
        The estimate (NaN when the CLI wrote null).
    stderr : float
        Its standard error, as the CLI computed it (NaN when unknown).
    """

    value: float
    stderr: float

    def __float__(self) -> float:
        return self.value

    def z(self, reference: float) -> float:
        """Distance to ``reference`` in standard errors, ``(value - reference) / stderr``.

        A value known exactly (``stderr == 0``, e.g. a validation cross-entropy over all prefixes or a work that is
        zero on every path) is 0 standard errors from itself and infinitely many from anything else.
        """
        difference = self.value - reference
        if self.stderr == 0:
            return 0.0 if difference == 0 else math.copysign(math.inf, difference)
        return difference / self.stderr

    def agrees(self, reference: float, sigmas: float = 3.0) -> bool:
        """Whether ``reference`` lies within ``sigmas`` standard errors of the value.

        At 3 standard errors a correct Gaussian estimate disagrees with its true value 0.27 % of the time.
        """
        return bool(abs(self.z(reference)) <= sigmas)

    def __str__(self) -> str:
        return f"{self.value:.6g} +- {self.stderr:.2g}"


def _real_number(value: Any, name: str) -> float:
    """A real number as float; complex numbers, booleans and strings are refused (TypeError) naming ``name``."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or np.iscomplexobj(value) or np.ndim(value) != 0:
        raise TypeError(f"Trajectories: {name} must be a real number (got {value!r}).")
    return float(value)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _optional(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def _optional_int(value: Any) -> Optional[int]:
    return None if value is None else int(value)


def _array(value: Any) -> np.ndarray:
    """A JSON number array (nulls as NaN) as float64."""
    if value is None:
        return np.empty(0)
    return np.array(_nan_for_none(value), dtype=float)


def _nan_for_none(value: Any) -> Any:
    if isinstance(value, list):
        return [_nan_for_none(v) for v in value]
    return math.nan if value is None else value


def _measured(d: Dict[str, Any], key: str, stderr_key: Optional[str] = None) -> Optional[Measured]:
    if key not in d:
        return None
    return Measured(_number(d.get(key)), _number(d.get(stderr_key or key + "_stderr")))


class _Reader:
    """Reads named keys from a JSON object and remembers which it used, so the others go to ``extra``."""

    def __init__(self, d: Dict[str, Any]):
        self.d = d
        self.used: set = set()

    def get(self, *keys: str) -> Any:
        self.used.update(keys)
        return self.d.get(keys[0])

    def measured(self, key: str, stderr_key: Optional[str] = None) -> Optional[Measured]:
        stderr_key = stderr_key or key + "_stderr"
        self.used.update((key, stderr_key))
        return _measured(self.d, key, stderr_key)

    def optional_measured(self, key: str, stderr_key: Optional[str] = None) -> Optional[Measured]:
        """A quantity the result may lack: None when its key is absent or null (e.g. the mean work of a jump process,
        which has none), not ``Measured(nan, nan)``."""
        m = self.measured(key, stderr_key)
        return None if self.d.get(key) is None else m

    def extra(self) -> Dict[str, Any]:
        return {k: v for k, v in self.d.items() if k not in self.used}


@dataclass
class Trajectories:
    """An ensemble of trajectories x[trajectory, frame, dimension] at frame spacing ``dt``, with provenance.

    Passing one to :func:`thermolearn.estimate` or :func:`thermolearn.infer` keeps its provenance, so the CLI can
    put the model's exact entropy production next to the estimate, and warn when the frames are an Euler-Maruyama
    chain at its own step (the coarse-sampling correction then over-corrects).

    Attributes
    ----------
    x : numpy.ndarray
        float64 array of shape (trajectories, frames, dimension). Given (frames,), it holds one trajectory of a scalar;
        a 2-D array is refused as ambiguous (``x[None]`` is one trajectory of (frames, dimension), ``x[:, :, None]``
        trajectories of one coordinate); complex, boolean, string and object arrays are refused (see ``as_ensemble``).
    dt : float
        Time between frames.
    start_time : float
        Time of frame 0.
    model, parameters, seed
        The simulated model's name, its parameters and the seed (None for data from elsewhere).
    scheme, integration_dt
        The integrator that made the frames and its step (``dt`` is ``integration_dt * save_every``); None for data
        from elsewhere.
    """

    x: np.ndarray
    dt: float
    start_time: float = 0.0
    model: Optional[str] = None
    parameters: Optional[Dict[str, Any]] = None
    seed: Optional[int] = None
    scheme: Optional[str] = None
    integration_dt: Optional[float] = None

    def __post_init__(self) -> None:
        self.x = as_ensemble(self.x)
        # the sidecar is JSON, which has no NaN or infinity: refuse here, in Python's terms, not in the CLI's
        self.dt = _real_number(self.dt, "dt")
        if not (math.isfinite(self.dt) and self.dt > 0):
            raise ValueError(f"Trajectories: dt must be a positive finite time between frames (got {self.dt}).")
        self.start_time = _real_number(self.start_time, "start_time")
        if not math.isfinite(self.start_time):
            raise ValueError(f"Trajectories: start_time must be finite (got {self.start_time}).")
        if self.model is not None and not isinstance(self.model, str):
            raise TypeError(f"Trajectories: model must be a model name (str) or None (got {self.model!r}).")
        if self.parameters is not None:
            if not isinstance(self.parameters, Mapping):
                raise TypeError(f"Trajectories: parameters must be a dict of the model's parameters or None (got {self.parameters!r}).")
            try:   # numpy values as numbers; the sidecar is JSON, which has no NaN or infinity
                self.parameters = json.loads(json.dumps(dict(self.parameters), default=json_value, allow_nan=False))
            except ValueError:
                raise ValueError(f"Trajectories: parameters must be finite numbers, strings or matrices (got {self.parameters!r}; "
                                 "JSON, which the provenance travels in, has no NaN or infinity).") from None
        if self.seed is not None:
            try:
                seed = operator.index(self.seed)
            except TypeError:
                raise TypeError(f"Trajectories: seed must be a whole number or None (got {self.seed!r}).") from None
            if not 0 <= seed < 2 ** 64:
                raise ValueError(f"Trajectories: seed must be a whole number from 0 to 2**64 - 1 (got {seed}).")
            self.seed = seed
        if self.scheme is not None and not isinstance(self.scheme, str):
            raise TypeError(f"Trajectories: scheme must be a scheme name (str) or None (got {self.scheme!r}).")
        if self.integration_dt is not None:
            self.integration_dt = _real_number(self.integration_dt, "integration_dt")
            if not (math.isfinite(self.integration_dt) and self.integration_dt > 0):
                raise ValueError(f"Trajectories: integration_dt must be a positive finite step or None (got {self.integration_dt}).")

    def __array__(self, dtype=None, copy=None):
        return self.x if dtype is None else self.x.astype(dtype)

    @property
    def times(self) -> np.ndarray:
        """Time of each frame, ``start_time + dt * arange(frames)``."""
        return self.start_time + self.dt * np.arange(self.x.shape[1])

    def sidecar(self) -> Dict[str, Any]:
        """The JSON sidecar the CLI reads next to a ``.npy`` file (docs/formats.md)."""
        n, frames, dim = self.x.shape
        sidecar = {"format": "thermolearn-trajectories", "dt": float(self.dt), "start_time": float(self.start_time),
                   "trajectories": n, "frames": frames, "dimension": dim, "model": self.model,
                   "parameters": self.parameters, "seed": self.seed, "first_trajectory": 0, "total_trajectories": None}
        if self.scheme is not None:
            sidecar["scheme"] = self.scheme
        if self.integration_dt is not None:
            sidecar["integration_dt"] = float(self.integration_dt)
        return sidecar


_LARGEST_EXACT_INTEGER = 2 ** 53   # float64 holds every integer up to this one exactly, not every one beyond


def real_array(x: Any, what: str) -> np.ndarray:
    """``x`` as a numpy array of real numbers (float or integer dtype), refusing what the CLI would misread.

    numpy's own conversion to float64 drops an imaginary part (with only a ``ComplexWarning``), reads booleans as 0 and 1
    and strings as the numbers they spell, and ignores a mask; each of these is refused here instead, naming ``what``.
    """
    if isinstance(x, np.ma.MaskedArray):
        masked = int(np.ma.count_masked(x))
        if masked:
            raise ValueError(f"{what} is a masked array with {masked} masked value(s); ThermoLearn would read the values under the "
                             "mask. Drop the frames or trajectories they belong to (or fill them, x.filled(value)) first.")
        x = np.ma.getdata(x)
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind == "c":
        raise TypeError(f"{what} holds complex numbers (dtype {a.dtype}); ThermoLearn reads real coordinates and would drop the "
                        "imaginary part. Pass x.real, or the real and imaginary parts as two coordinates "
                        "(np.stack([x.real, x.imag], axis=-1)).")
    if kind == "b":
        raise TypeError(f"{what} holds booleans (dtype bool); give numbers (x.astype(float) if 0 and 1 are meant).")
    if kind == "O":
        raise TypeError(f"{what} holds Python objects (dtype object: None, mixed types or ragged lists?); convert it to numbers "
                        "first, e.g. np.asarray(x, dtype=float), which says which element is not one.")
    if kind not in "fiu":
        raise TypeError(f"{what} has dtype {a.dtype}, not numbers (float or integer); convert it first, e.g. x.astype(float).")
    if kind in "iu" and a.size and (int(a.max()) > _LARGEST_EXACT_INTEGER or int(a.min()) < -_LARGEST_EXACT_INTEGER):
        raise ValueError(f"{what} holds integers up to {max(int(a.max()), -int(a.min()))} in magnitude, beyond 2**53, which float64 "
                         "(what the CLI reads) does not hold exactly; shift or scale them first.")
    return a


def as_ensemble(x: Any) -> np.ndarray:
    """An array as float64, C-ordered, of shape (trajectories, frames, dimension).

    Shapes accepted: (trajectories, frames, dimension), and (frames,) for one trajectory of a scalar. A 2-D array is
    refused: it could be one trajectory of (frames, dimension) or, as the CLI reads a 2-D .npy file, trajectories of
    (trajectories, frames) of one coordinate; say which with ``x[None]`` or ``x[:, :, None]``. Values must be real
    numbers: complex, boolean, string and object arrays are refused (TypeError), as are integers beyond 2**53, which
    float64 does not hold exactly, and masked arrays with masked values (ValueError).
    """
    a = real_array(x, "the trajectory array")
    if a.ndim == 2:
        rows, columns = a.shape
        raise ValueError(
            f"a 2-D array of shape {a.shape} is ambiguous: pass x[None] for one trajectory of {rows} frames x {columns} "
            f"coordinates (shape (1, {rows}, {columns})), or x[:, :, None] for {rows} trajectories of {columns} frames of one "
            "coordinate (how the CLI reads a 2-D .npy file).")
    if a.ndim not in (1, 3):
        raise ValueError(f"trajectories must have shape (trajectories, frames, dimension) (or (frames,) for one scalar "
                         f"trajectory); got an array with {a.ndim} axes, shape {a.shape}.")
    if a.size == 0:
        raise ValueError(f"the trajectory array of shape {a.shape} is empty; every axis needs at least one entry "
                         "(and estimates at least 2 frames).")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :, None]
    return a


def json_value(value: Any) -> Any:
    """``json.dumps``'s ``default``: numpy scalars and arrays as the Python numbers JSON can write; complex refused."""
    if isinstance(value, (np.ndarray, np.generic)):
        if np.iscomplexobj(value):
            shown = f"an array of dtype {value.dtype} and shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)
            raise TypeError(f"{shown} is complex; ThermoLearn's parameters are real numbers.")
        return value.item() if isinstance(value, np.generic) or value.ndim == 0 else value.tolist()
    if isinstance(value, complex):
        raise TypeError(f"{value!r} is complex; ThermoLearn's parameters are real numbers.")
    raise TypeError(f"{value!r} of type {type(value).__name__} is not a number, string or matrix.")


@dataclass
class SimulationResult:
    """What :func:`thermolearn.simulate` returns.

    Attributes
    ----------
    trajectories : Trajectories
        The saved frames (x has shape (trajectories, frames, dimension)); ``trajectories.dt = dt * save_every``.
    exact_ep_rate : float or None
        The model's exact entropy-production rate (None when the model has no closed form).
    mean_work, mean_heat, mean_medium_entropy : Measured or None
        Ensemble means per trajectory with standard errors; None for a jump process (it has no energetics).
    energetics : dict of numpy.ndarray or None
        The per-trajectory energetics table (one array per CSV column) when requested.
    shard, first_trajectory, total_trajectories : str, int, int or None
        Which part of a sharded ensemble this run simulated (``'i/n'``), the index of its first trajectory and the whole
        ensemble's size (``'1/1'``, 0 and ``trajectories`` for an unsharded run; None where the CLI did not write them).
    """

    model: str
    parameters: Dict[str, Any]
    trajectories: Trajectories
    exact_ep_rate: Optional[float]
    mean_work: Optional[Measured]
    mean_heat: Optional[Measured]
    mean_medium_entropy: Optional[Measured]
    dt: float
    steps: int
    save_every: int
    seed: int
    scheme: str
    energetics: Optional[Dict[str, np.ndarray]] = None
    shard: Optional[str] = None
    first_trajectory: Optional[int] = None
    total_trajectories: Optional[int] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any], trajectories: Trajectories,
                  energetics: Optional[Dict[str, np.ndarray]] = None) -> "SimulationResult":
        r = _Reader(d)
        result = cls(
            model=r.get("model"), parameters=r.get("parameters") or {}, trajectories=trajectories,
            exact_ep_rate=_optional(r.get("exact_ep_rate")), mean_work=r.optional_measured("mean_work"),
            mean_heat=r.optional_measured("mean_heat"), mean_medium_entropy=r.optional_measured("mean_medium_entropy"),
            dt=float(r.get("dt")), steps=int(r.get("steps")), save_every=int(r.get("save_every")), seed=int(r.get("seed")),
            scheme=r.get("scheme"), energetics=energetics, shard=r.get("shard"),
            first_trajectory=_optional_int(r.get("first_trajectory")),
            total_trajectories=_optional_int(r.get("total_trajectories")), json=d)
        r.get("output", "energetics", "trajectories", "frames")
        result.extra = r.extra()
        return result


@dataclass
class ActiveSimulationResult:
    """What :func:`thermolearn.simulate` returns for an active-matter model (``'aoup'``, ``'abp'``): one system of N
    particles, written as snapshots (docs/formats.md, "Active-matter snapshots").

    Attributes
    ----------
    snapshots : numpy.ndarray
        float64 array of shape (frames, particles, columns), as the CLI wrote it; ``columns`` names its last axis
        (``x, y[, z], gx, gy[, gz]`` for AOUP, ``x, y, theta`` for ABP).
    x : numpy.ndarray
        Positions, shape (frames, particles, d); in a periodic box wrapped into [0, ``box``) (take increments with the
        minimum image, ``dx - box * np.round(dx / box)``).
    g : numpy.ndarray or None
        AOUP: the self-propulsion g of each particle, shape (frames, particles, d), exactly N(0, I) in the stationary
        state; None for ABP.
    theta : numpy.ndarray or None
        ABP: the heading angle of each particle, shape (frames, particles) (self-propulsion ``v0 (cos theta, sin theta)``);
        None for AOUP.
    frame_dt : float
        Time between frames, ``dt * save_every``; ``times`` gives each frame's time after the burn-in.
    dt, steps, save_every, burn_in, seed
        Integration step, steps after the burn-in, frame stride, discarded steps, seed.
    box : float or None
        Side L of the periodic box (None in a trap, ``A > 0``); ``cutoff`` the pair force's range (None without one).
    parameters : dict
        The model's parameters as the CLI resolved them (``n``, ``d``, ``phi``, ``v0``, ..., ``box``).
    sidecar : dict
        The snapshots' provenance as the CLI wrote it (what :func:`thermolearn.estimate` passes on with them).
    """

    model: str
    parameters: Dict[str, Any]
    snapshots: np.ndarray
    columns: List[str]
    x: np.ndarray
    g: Optional[np.ndarray]
    theta: Optional[np.ndarray]
    particles: int
    frames: int
    dt: float
    frame_dt: float
    steps: int
    save_every: int
    burn_in: int
    seed: int
    box: Optional[float]
    cutoff: Optional[float]
    particle_steps_per_second: Optional[float] = None
    sidecar: Dict[str, Any] = field(default_factory=dict, repr=False)
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def times(self) -> np.ndarray:
        """Time of each frame after the burn-in, ``frame_dt * arange(frames)``."""
        return self.frame_dt * np.arange(self.snapshots.shape[0])

    @classmethod
    def from_json(cls, d: Dict[str, Any], snapshots: np.ndarray, sidecar: Dict[str, Any]) -> "ActiveSimulationResult":
        r = _Reader(d)
        columns = [str(c) for c in (r.get("columns") or sidecar.get("columns") or [])]
        snapshots = np.ascontiguousarray(snapshots, dtype=np.float64)
        if snapshots.ndim != 3 or snapshots.shape[2] != len(columns):
            raise ValueError(f"the CLI's snapshots have shape {snapshots.shape}; expected (frames, particles, {len(columns)}) for "
                             f"the columns {columns}.")
        parameters = r.get("parameters") or sidecar.get("parameters") or {}
        d_positions = int(parameters.get("d", 2))
        g = theta = None
        if "theta" in columns:
            theta = snapshots[:, :, columns.index("theta")]
        else:
            g = snapshots[:, :, d_positions:]
        box = r.get("box")
        result = cls(model=r.get("model"), parameters=parameters, snapshots=snapshots, columns=columns,
                     x=snapshots[:, :, :d_positions], g=g, theta=theta, particles=int(r.get("particles")),
                     frames=int(r.get("frames")), dt=float(r.get("dt")), frame_dt=float(r.get("frame_dt")),
                     steps=int(r.get("steps")), save_every=int(r.get("save_every")), burn_in=int(r.get("burn_in")),
                     seed=int(r.get("seed")), box=_optional(box), cutoff=_optional(r.get("cutoff")),
                     particle_steps_per_second=_optional(r.get("particle_steps_per_second")), sidecar=dict(sidecar), json=d)
        r.get("output")
        result.extra = r.extra()
        return result


@dataclass
class ExactResult:
    """A model's exact entropy production (:func:`thermolearn.exact`).

    Attributes
    ----------
    ep_rate : float or None
        Exact EP rate at time ``at`` (per unit time; per step for discrete-time models, see ``ep_unit``).
    ep_total : float or None
        Total EP over [0, tau] for models with a protocol.
    stationary_covariance : numpy.ndarray or None
        The Lyapunov covariance of linear models.
    """

    model: str
    parameters: Dict[str, Any]
    at: float
    ep_rate: Optional[float]
    ep_total: Optional[float]
    ep_unit: str
    tau: Optional[float] = None
    stationary_covariance: Optional[np.ndarray] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "ExactResult":
        r = _Reader(d)
        cov = r.get("stationary_covariance")
        result = cls(model=r.get("model"), parameters=r.get("parameters") or {}, at=float(r.get("at")),
                     ep_rate=_optional(r.get("ep_rate")), ep_total=_optional(r.get("ep_total")), ep_unit=r.get("ep_unit"),
                     tau=_optional(r.get("tau")), stationary_covariance=None if cov is None else _array(cov), json=d)
        result.extra = r.extra()
        return result


@dataclass
class RateWindows:
    """sigma(t) on time windows (``estimate(..., windows=K)``): one entry per window, as arrays."""

    t: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray
    ep_rate: np.ndarray
    stderr: np.ndarray
    ep_rate_debiased: np.ndarray
    exact_ep_rate: Optional[np.ndarray]

    @classmethod
    def from_json(cls, items: List[Dict[str, Any]]) -> "RateWindows":
        def column(key: str) -> np.ndarray:
            return np.array([_number(w.get(key)) for w in items])
        exact = column("exact_ep_rate") if all("exact_ep_rate" in w for w in items) else None
        return cls(column("t"), column("t_start"), column("t_end"), column("ep_rate"), column("stderr"),
                   column("ep_rate_debiased"), exact)


@dataclass
class BasisCheck:
    """The estimate refitted in a richer basis on the same data (``estimate(..., basis_check='auto')``, the default for
    ``method='current'`` on stationary data; docs/inference.md).

    With a finite basis the current estimator is a variational lower bound on the EP rate (the projection of the
    thermodynamic force on the basis): a richer basis that gains beyond doubt (``gain_z > 3``) and beyond the estimate's
    error bar (``gain_in_estimate_errors > 0.5``) says the basis does not span the force (``short``; the CLI then warns
    ``basis_short``).

    Attributes
    ----------
    basis, richer_basis : str
        The estimate's basis and the one it was refitted in (``richer_basis`` None when the auto check had none).
    ep_rate : Measured or None
        The richer basis's estimate and its standard error (None when skipped).
    ep_rate_debiased : float or None
        The same, debiased.
    gain : Measured or None
        Debiased gain of the richer basis over the estimate's, with its jackknife standard error over the same batches.
    gain_z : float or None
        ``gain / gain.stderr``.
    gain_in_estimate_errors : float or None
        The gain in units of the estimate's own standard error.
    short : bool
        The basis does not span the thermodynamic force (False when skipped).
    skipped : str or None
        Why the check was not run (no richer basis in the family, too many functions, a richer basis the data do not
        determine); None when it ran.
    """

    basis: Optional[str]
    richer_basis: Optional[str]
    ep_rate: Optional[Measured] = None
    ep_rate_debiased: Optional[float] = None
    gain: Optional[Measured] = None
    gain_z: Optional[float] = None
    gain_in_estimate_errors: Optional[float] = None
    short: bool = False
    skipped: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "BasisCheck":
        r = _Reader(d)
        result = cls(basis=r.get("basis"), richer_basis=r.get("richer_basis"), ep_rate=r.optional_measured("ep_rate", "stderr"),
                     ep_rate_debiased=_optional(r.get("ep_rate_debiased")),
                     gain=r.optional_measured("gain"), gain_z=_optional(r.get("gain_z")),
                     gain_in_estimate_errors=_optional(r.get("gain_in_estimate_errors")), short=bool(r.get("short")),
                     skipped=r.get("skipped"))
        result.extra = r.extra()
        return result


@dataclass(frozen=True)
class JumpEstimate:
    """One of the jump estimator's estimates (``estimate(..., method='jump')``; docs/inference.md): ``continuous`` (the
    generator's Schnakenberg EP rate), ``sampled_chain`` (the chain sampled every frame) or ``richardson_lags_1_3`` (the
    sampled chain extrapolated over lags 1-3 to the continuous rate).

    Attributes
    ----------
    ep_rate : Measured
        The rate per unit time and its standard error.
    ep_rate_debiased : float
        The same with its finite-sample bias removed.
    method : str
        The CLI's name of the estimate (e.g. ``'jump-generator-mle'``).
    quantity : str or None
        What it estimates: ``'continuous_ep_rate'`` or ``'sampled_chain_ep_rate'``.
    """

    ep_rate: Measured
    ep_rate_debiased: float
    method: str
    quantity: Optional[str] = None

    @classmethod
    def from_json(cls, d: Optional[Dict[str, Any]]) -> Optional["JumpEstimate"]:
        if d is None:
            return None
        return cls(_measured(d, "ep_rate", "stderr"), _number(d.get("ep_rate_debiased")), d.get("method"), d.get("quantity"))


@dataclass
class EstimateResult:
    """Entropy production estimated from trajectories (:func:`thermolearn.estimate`).

    Attributes
    ----------
    ep_rate : Measured
        The estimate and its calibrated standard error (``value``, ``stderr``).
    ep_rate_debiased : float
        The estimate with its finite-sample bias removed (same standard error).
    quantity : str or None
        What ``ep_rate`` estimates (the CLI's id, e.g. a continuous-time rate or a lower bound for ``method='tur'``);
        ``quantity_description`` says it in words.
    exact_ep_rate : float or None
        The model's own exact EP rate when the data's provenance names a catalogue model.
    exact_of_quantity : float or None
        The exact value of the estimate's own quantity: compare ``ep_rate`` with this one (``exact_comparison`` says
        whether it is the same quantity or a bound, ``ep_rate <= exact_of_quantity``).
    exact_difference_z : float or None
        ``(ep_rate - exact_of_quantity) / stderr`` (None without an exact value of the quantity).
    exact_verdict : str or None
        What that distance says: ``'consistent'`` (within 3 standard errors), ``'below'`` or ``'above'``;
        ``exact_verdict_reason`` explains a ``'below'`` of the current estimator (a finite basis is a variational lower
        bound; see ``basis_check``), else None.
    exact_ep_rate_quantity : str or None
        What ``exact_ep_rate`` is (``'continuous_ep_rate'``, or ``'ep_per_step'`` for a discrete-time chain).
    exact_sampled_chain_ep_rate : float or None
        Where known, the exact EP per unit time of the chain the frames sample (frames ``dt`` apart).
    basis_check : BasisCheck or None
        The estimate refitted in a richer basis (``method='current'`` on stationary data); None when not run.
    input : str or None
        The data: the file's path, or ``'<numpy array (shape)>'`` / ``'<Trajectories (shape)>'`` for data passed from
        memory (the temporary file the CLI read is gone when the call returns).
    ep_rate_uncorrected : Measured or None
        The estimate without the coarse-sampling correction (``method='current'``).
    windows : RateWindows or None
        sigma(t) per window (``windows > 1``).
    diffusion : numpy.ndarray
        The diffusion matrix used, shape (dimension, dimension) (empty when the method uses none).
    training : dict or None
        Training curves of the neural methods (per fold: ``train_loss``, ``heldout_loss``, ``best_epoch``).
    fit : str or None
        With ``windows``: how sigma(t) was fitted (the CLI's description); None otherwise.
    continuous, sampled_chain, richardson_lags_1_3 : JumpEstimate or None
        ``method='jump'``: the continuous-time rate of the fitted generator, the rate of the chain the frames sample, and
        that chain extrapolated over lags 1-3; each None when the data do not give it (``note`` says why).
    generator : numpy.ndarray or None
        ``method='jump'``: the fitted generator Q (states x states; rows sum to 0), for the states ``state_labels``.
    state_labels : list or None
        ``method='jump'``: the state values, in the order of ``generator``'s rows.
    deviance : float or None
        ``method='jump'``: ``2 sum n_ij ln(P_hat_ij / P_ij(Q))``, how far the transition counts are from the nearest
        chain a generator makes (0 when one makes them exactly).
    note : str or None
        ``method='jump'``: why an estimate is missing; None when all are there.
    warnings : list of dict
        What the data say about the estimate's premises (``id``, ``message``, ...); empty when nothing is amiss.
        :func:`thermolearn.estimate` also issues each as a :class:`thermolearn.ThermoLearnWarning`.
    measurement_noise : numpy.ndarray or None
        ``method='current'`` with ``diffusion='auto-robust'`` or ``method='tur'`` with ``noise_robust``: covariance
        (dimension, dimension) of the white measurement noise removed from the positions; ``measurement_noise_stderr``
        beside it. None otherwise.
    measurement_noise_amplification : float or None
        With ``measurement_noise``: the largest factor by which removing the noise multiplied an observed mean and its
        standard error (as :class:`InferResult`'s; 1 for ``poly`` and for the TUR bound). None otherwise.
    """

    ep_rate: Measured
    ep_rate_debiased: float
    method: str
    basis: str
    n_frames: int
    n_transitions: int
    observed_time: float
    dt: float
    errors: str
    diffusion: np.ndarray
    diffusion_source: str
    quantity: Optional[str] = None
    quantity_description: Optional[str] = None
    model: Optional[str] = None
    exact_ep_rate: Optional[float] = None
    exact_of_quantity: Optional[float] = None
    exact_comparison: Optional[str] = None
    exact_difference_z: Optional[float] = None
    exact_verdict: Optional[str] = None
    exact_verdict_reason: Optional[str] = None
    exact_ep_rate_quantity: Optional[str] = None
    exact_sampled_chain_ep_rate: Optional[float] = None
    basis_check: Optional[BasisCheck] = None
    ep_rate_uncorrected: Optional[Measured] = None
    windows: Optional[RateWindows] = None
    training: Optional[Dict[str, Any]] = None
    fit: Optional[str] = None
    continuous: Optional[JumpEstimate] = None
    sampled_chain: Optional[JumpEstimate] = None
    richardson_lags_1_3: Optional[JumpEstimate] = None
    generator: Optional[np.ndarray] = None
    state_labels: Optional[List[Any]] = None
    deviance: Optional[float] = None
    note: Optional[str] = None
    warnings: List[Dict[str, Any]] = field(default_factory=list)
    measurement_noise: Optional[np.ndarray] = None
    measurement_noise_stderr: Optional[np.ndarray] = None
    measurement_noise_amplification: Optional[float] = None
    input: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def stderr(self) -> float:
        """Standard error of ``ep_rate``."""
        return self.ep_rate.stderr

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "EstimateResult":
        r = _Reader(d)
        diffusion = _array(r.get("diffusion"))
        dim = int(round(math.sqrt(diffusion.size)))
        if dim * dim == diffusion.size and dim > 0:
            diffusion = diffusion.reshape(dim, dim)
        windows = r.get("ep_rate_t")
        uncorrected = r.optional_measured("ep_rate_uncorrected", "stderr_uncorrected")
        quantity = r.get("quantity")
        check = r.get("basis_check")
        result = cls(
            ep_rate=r.measured("ep_rate", "stderr"), ep_rate_debiased=_number(r.get("ep_rate_debiased")),
            method=r.get("method"), basis=r.get("basis"), n_frames=int(r.get("n_frames")),
            n_transitions=int(r.get("n_transitions")), observed_time=_number(r.get("observed_time")),
            dt=float(r.get("dt")), errors=r.get("errors"), diffusion=diffusion, diffusion_source=r.get("diffusion_source"),
            quantity=quantity if isinstance(quantity, str) else None,
            quantity_description=r.get("quantity_description"), model=r.get("model"),
            exact_ep_rate=_optional(r.get("exact_ep_rate")), exact_of_quantity=_optional(r.get("exact_of_quantity")),
            exact_comparison=r.get("exact_comparison"), exact_difference_z=_optional(r.get("exact_difference_z")),
            exact_verdict=r.get("exact_verdict"), exact_verdict_reason=r.get("exact_verdict_reason"),
            exact_ep_rate_quantity=r.get("exact_ep_rate_quantity"),
            exact_sampled_chain_ep_rate=_optional(r.get("exact_sampled_chain_ep_rate")),
            basis_check=BasisCheck.from_json(check) if isinstance(check, dict) else None, ep_rate_uncorrected=uncorrected,
            windows=None if windows is None else RateWindows.from_json(windows), training=r.get("training"),
            fit=r.get("fit"), continuous=JumpEstimate.from_json(r.get("continuous")),
            sampled_chain=JumpEstimate.from_json(r.get("sampled_chain")),
            richardson_lags_1_3=JumpEstimate.from_json(r.get("richardson_lags_1_3")),
            generator=None if r.get("generator") is None else np.atleast_2d(_array(r.get("generator"))),
            state_labels=None if r.get("state_labels") is None else list(r.get("state_labels")),
            deviance=_optional(r.get("deviance")), note=r.get("note"),
            warnings=list(r.get("warnings") or []), input=r.get("input"), json=d)
        noise = r.get("measurement_noise")
        if noise is not None:
            result.measurement_noise = _array(noise.get("covariance"))
            result.measurement_noise_stderr = _array(noise.get("stderr"))
            result.measurement_noise_amplification = _optional(noise.get("amplification"))
        if not isinstance(quantity, (str, type(None))):
            r.used.discard("quantity")
        result.extra = r.extra()
        return result


@dataclass
class ActiveEstimateResult:
    """Entropy production of an active-matter system estimated from its snapshots (:func:`thermolearn.estimate` on the
    output of ``simulate('aoup' or 'abp', ...)``; docs/active-matter.md).

    Attributes
    ----------
    ep_rate : Measured
        The whole system's steady-state EP rate per unit time and its standard error (jackknife over ``blocks``);
        ``ep_rate_debiased`` with its finite-sample bias removed, ``ep_rate_per_particle`` per particle.
    ep_rate_x, ep_rate_g : float or None
        The shares of the positions and of the active state (g or theta).
    exact_ep_rate, exact_ep_rate_x, exact_ep_rate_g : float or None
        The model's exact values where known (e.g. free particles, ``v0 = 0``); ``difference_from_exact`` the estimate
        minus the exact rate with its standard error.
    identity_ep_rate : Measured or None
        The same rate from identity 4 (docs/active-matter.md), an independent value on the same frames;
        ``difference_from_identity`` (the estimate named by ``identity_compared`` minus it) and ``ratio_to_identity``
        compare the two.
    ep_rate_heldout : Measured or None
        The rate of a force fitted on the other blocks, scored on each held-out block; ``heldout_swamped`` names blocks
        whose score swamps it.
    stationarity : dict or None
        Identity 4 on two stretches of the record (``z``, ``differs``); ``stationarity_observables`` the same for
        observables such as the mean |g|^2.
    warnings : list of dict
        What the data say about the estimate's premises; each also issued as a :class:`thermolearn.ThermoLearnWarning`.
    """

    quantity: str
    ep_rate: Measured
    ep_rate_debiased: float
    method: str
    particles: int
    n_snapshots: int
    frame_dt: float
    blocks: Optional[int] = None
    model: Optional[str] = None
    parameters: Dict[str, Any] = field(default_factory=dict)
    ep_rate_per_particle: Optional[Measured] = None
    ep_rate_x: Optional[float] = None
    ep_rate_g: Optional[float] = None
    exact_ep_rate: Optional[float] = None
    exact_ep_rate_x: Optional[float] = None
    exact_ep_rate_g: Optional[float] = None
    difference_from_exact: Optional[Measured] = None
    identity_ep_rate: Optional[Measured] = None
    identity_compared: Optional[str] = None
    difference_from_identity: Optional[Measured] = None
    ratio_to_identity: Optional[Measured] = None
    ep_rate_heldout: Optional[Measured] = None
    heldout_swamped: Optional[Dict[str, Any]] = None
    stationarity: Optional[Dict[str, Any]] = None
    stationarity_observables: List[Dict[str, Any]] = field(default_factory=list)
    warnings: List[Dict[str, Any]] = field(default_factory=list)
    input: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def stderr(self) -> float:
        """Standard error of ``ep_rate``."""
        return self.ep_rate.stderr

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "ActiveEstimateResult":
        r = _Reader(d)
        blocks = r.get("blocks")
        result = cls(
            quantity=r.get("quantity"), ep_rate=r.measured("ep_rate", "stderr"),
            ep_rate_debiased=_number(r.get("ep_rate_debiased")), method=r.get("method"), particles=int(r.get("particles")),
            n_snapshots=int(r.get("n_snapshots")), frame_dt=float(r.get("frame_dt")),
            blocks=None if blocks is None else int(blocks), model=r.get("model"), parameters=r.get("parameters") or {},
            ep_rate_per_particle=r.optional_measured("ep_rate_per_particle", "stderr_per_particle"),
            ep_rate_x=_optional(r.get("ep_rate_x")), ep_rate_g=_optional(r.get("ep_rate_g")),
            exact_ep_rate=_optional(r.get("exact_ep_rate")), exact_ep_rate_x=_optional(r.get("exact_ep_rate_x")),
            exact_ep_rate_g=_optional(r.get("exact_ep_rate_g")),
            difference_from_exact=r.optional_measured("difference_from_exact"),
            identity_ep_rate=r.optional_measured("identity_ep_rate", "identity_stderr"),
            identity_compared=r.get("identity_compared"),
            difference_from_identity=r.optional_measured("difference_from_identity"),
            ratio_to_identity=r.optional_measured("ratio_to_identity"),
            ep_rate_heldout=r.optional_measured("ep_rate_heldout", "stderr_heldout"),
            heldout_swamped=r.get("heldout_swamped"), stationarity=r.get("stationarity"),
            stationarity_observables=list(r.get("stationarity_observables") or []),
            warnings=list(r.get("warnings") or []), input=r.get("input"), json=d)
        result.extra = r.extra()
        return result


@dataclass
class Field:
    """A vector field in a basis: ``coefficients[a, m]`` of basis function a for coordinate m, with standard errors."""

    coefficients: np.ndarray
    stderr: np.ndarray

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Field":
        return cls(_array(d.get("coefficients")), _array(d.get("stderr")))


@dataclass
class InferResult:
    """Drift, diffusion, score and mean local velocity inferred from trajectories (:func:`thermolearn.infer`).

    Attributes
    ----------
    functions : list of str
        The basis functions (rows of each field's coefficients).
    drift, score, mean_local_velocity : Field
        Coefficients of shape (functions, dimension) with standard errors of the same shape: the continuous-time fields,
        corrected for the frame spacing (``correction='richardson'``, the default), else the lag-dt ones.
    diffusion : numpy.ndarray
        Diffusion matrix (dimension, dimension); ``diffusion_stderr`` beside it.
    correction : str or None
        The coarse-sampling correction: ``'richardson'`` (lags 1 and 2) or ``'none'``.
    drift_uncorrected, score_uncorrected, mean_local_velocity_uncorrected : Field or None
        With the correction: the lag-dt fields, e.g. the drift ``(E[x(t+dt)|x(t)] - x(t))/dt``.
    diffusion_uncorrected, diffusion_uncorrected_stderr : numpy.ndarray or None
        With the correction: the lag-1 diffusion matrix.
    drift_correction_fraction : float or None
        How far the correction moved the drift, as a fraction of its size (above 0.2: a ``coarse_sampling`` warning).
    warnings : list of dict
        What the data say about the fields' premises (``id``, ``message``, ...); empty when nothing is amiss.
        :func:`thermolearn.infer` also issues each as a :class:`thermolearn.ThermoLearnWarning`.
    measurement_noise : numpy.ndarray or None
        With ``noise_robust``: covariance (dimension, dimension) of the white measurement noise removed from the positions;
        ``measurement_noise_stderr`` beside it. None otherwise.
    measurement_noise_amplification : float or None
        With ``noise_robust``: the largest factor by which removing the noise multiplied an observed mean and its standard error
        (``exp(q^T Sigma q / 2)`` at the Gram's highest harmonic for ``fourier``, 1 for ``poly`` and ``rbf``; above 3 a
        ``noise_amplification`` warning). None otherwise.
    input : str or None
        The data: the file's path, or ``'<numpy array (shape)>'`` / ``'<Trajectories (shape)>'`` for data passed from memory.
    """

    basis: str
    functions: List[str]
    dimension: int
    drift: Field
    diffusion: np.ndarray
    diffusion_stderr: np.ndarray
    diffusion_method: str
    score: Field
    mean_local_velocity: Field
    n_frames: int
    n_transitions: int
    dt: float
    errors: str
    model: Optional[str] = None
    correction: Optional[str] = None
    drift_uncorrected: Optional[Field] = None
    score_uncorrected: Optional[Field] = None
    mean_local_velocity_uncorrected: Optional[Field] = None
    diffusion_uncorrected: Optional[np.ndarray] = None
    diffusion_uncorrected_stderr: Optional[np.ndarray] = None
    drift_correction_fraction: Optional[float] = None
    warnings: List[Dict[str, Any]] = field(default_factory=list)
    measurement_noise: Optional[np.ndarray] = None
    measurement_noise_stderr: Optional[np.ndarray] = None
    measurement_noise_amplification: Optional[float] = None
    input: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "InferResult":
        r = _Reader(d)
        diffusion = r.get("diffusion") or {}
        lag_one = r.get("diffusion_uncorrected")

        def optional_field(key: str) -> Optional[Field]:
            value = r.get(key)
            return None if value is None else Field.from_json(value)
        result = cls(basis=r.get("basis"), functions=list(r.get("functions") or []), dimension=int(r.get("dimension")),
                     drift=Field.from_json(r.get("drift") or {}), diffusion=_array(diffusion.get("matrix")),
                     diffusion_stderr=_array(diffusion.get("stderr")), diffusion_method=diffusion.get("method"),
                     score=Field.from_json(r.get("score") or {}),
                     mean_local_velocity=Field.from_json(r.get("mean_local_velocity") or {}),
                     n_frames=int(r.get("n_frames")), n_transitions=int(r.get("n_transitions")), dt=float(r.get("dt")),
                     errors=r.get("errors"), model=r.get("model"), correction=r.get("correction"),
                     drift_uncorrected=optional_field("drift_uncorrected"), score_uncorrected=optional_field("score_uncorrected"),
                     mean_local_velocity_uncorrected=optional_field("mean_local_velocity_uncorrected"),
                     diffusion_uncorrected=None if lag_one is None else _array(lag_one.get("matrix")),
                     diffusion_uncorrected_stderr=None if lag_one is None else _array(lag_one.get("stderr")),
                     drift_correction_fraction=_optional(r.get("drift_correction_fraction")),
                     warnings=list(r.get("warnings") or []), json=d)
        noise = r.get("measurement_noise")
        if noise is not None:
            result.measurement_noise = _array(noise.get("covariance"))
            result.measurement_noise_stderr = _array(noise.get("stderr"))
            result.measurement_noise_amplification = _optional(noise.get("amplification"))
        result.input = r.get("input")
        result.extra = r.extra()
        return result


_REFERENCE_KEYS = ("optimum_work", "linear_ramp_work", "landauer_bound", "finite_time_bound", "wasserstein_2",
                   "delta_f_neq", "overdamped_objective_bound", "optimum_work_at_dt", "optimum_work_extrapolated",
                   "linear_ramp_work_at_dt")


@dataclass
class ProtocolMeasurement:
    """A protocol's mean work, error and objective ``<W> + alpha * error``, each with its standard error.

    ``work``, ``error`` and ``objective`` are extrapolated to dt -> 0 (per path, ``2 W_(dt/4) - W_(dt/2)`` from chains at
    dt/2 and dt/4 on one Brownian path); ``work_at_dt`` and ``error_at_dt`` are the chain at the task's own step
    ``dt = tau / steps``, as the optimiser's iterations run it, and ``work_step_bias`` is their difference per path,
    ``work_at_dt - work`` (None where the CLI did not write them).

    :func:`thermolearn.evaluate_protocol` returns one too, with ``task``, ``tau``, ``alpha``, ``protocol_file``, the
    linear ramp on the same paths as ``baseline`` and the whole JSON object in ``json`` (None, or empty, for
    optimize's baseline).
    """

    work: Measured
    error: Measured
    objective: Measured
    trajectories: int
    seed: int
    references: Dict[str, float] = field(default_factory=dict)
    steps: Optional[int] = None
    work_at_dt: Optional[Measured] = None
    error_at_dt: Optional[Measured] = None
    work_step_bias: Optional[Measured] = None
    task: Optional[str] = None
    tau: Optional[float] = None
    alpha: Optional[float] = None
    protocol_file: Optional[str] = None
    baseline: Optional["ProtocolMeasurement"] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "ProtocolMeasurement":
        r = _Reader(d)
        r.get("steps", "work_at_dt", "work_at_dt_stderr", "error_at_dt", "error_at_dt_stderr", "work_step_bias",
              "work_step_bias_stderr", *_REFERENCE_KEYS)
        baseline = r.get("baseline")
        result = cls(r.measured("work"), r.measured("error"), r.measured("objective"), int(r.get("trajectories") or 0),
                     int(r.get("seed") or 0), {k: _number(d[k]) for k in _REFERENCE_KEYS if k in d},
                     **_step_measurements(d), task=r.get("task"), tau=_optional(r.get("tau")), alpha=_optional(r.get("alpha")),
                     protocol_file=r.get("protocol_file"),
                     baseline=ProtocolMeasurement.from_json(baseline) if isinstance(baseline, dict) else None, json=d)
        result.extra = r.extra()
        return result


def _step_measurements(d: Dict[str, Any]) -> Dict[str, Any]:
    """``steps``, ``work_at_dt``, ``error_at_dt`` and ``work_step_bias`` of a measurement's JSON (None when absent)."""
    def measured(key: str) -> Optional[Measured]:
        return None if d.get(key) is None and d.get(key + "_stderr") is None else _measured(d, key)
    steps = d.get("steps")
    return {"steps": None if steps is None else int(steps), "work_at_dt": measured("work_at_dt"),
            "error_at_dt": measured("error_at_dt"), "work_step_bias": measured("work_step_bias")}


@dataclass
class Protocol:
    """A sampled protocol: ``lam[i, c]`` is control c at time ``t[i]``; ``theta`` its parameters in ``family``.

    Between samples lambda is linear; a time given twice is a jump (e.g. ``t = [0, 0, ..., tau, tau]``). One made by
    hand (``family`` None) can be measured with :func:`thermolearn.evaluate_protocol`, e.g. the linear ramp
    ``Protocol(['lambda'], np.array([0.0, 1.0]), np.array([[0.0], [1.0]]))``.
    """

    controls: List[str]
    t: np.ndarray
    lam: np.ndarray
    family: Optional[str] = None
    theta: np.ndarray = field(default_factory=lambda: np.empty(0))

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Protocol":
        return cls(list(d.get("controls") or []), _array(d.get("t")), _array(d.get("lambda")), d.get("family"),
                   _array(d.get("theta")))


@dataclass
class OptimizeResult:
    """An optimised protocol next to the linear ramp and the task's references (:func:`thermolearn.optimize`).

    Attributes
    ----------
    work, error, objective : Measured
        The optimised protocol measured on fresh paths (common random numbers with ``baseline``), extrapolated to
        dt -> 0 from chains at dt/2 and dt/4 on one Brownian path.
    steps : int or None
        Steps of the task's chain, ``dt = tau / steps``.
    work_at_dt, error_at_dt : Measured or None
        The same paths' chain at the task's own dt, as the optimiser's iterations run it.
    work_step_bias : Measured or None
        ``work_at_dt - work`` per path, with its standard error: the time step's bias in the iterations' work.
    baseline : ProtocolMeasurement
        The linear ramp on the same paths (with its own ``work_at_dt``, ``work_step_bias``).
    references : dict of float
        What the task knows exactly: ``optimum_work`` (Schmiedl-Seifert), ``linear_ramp_work``, ``landauer_bound``,
        ``finite_time_bound``, ... (only those the task has); for translate-trap also the exact means on the simulated
        chain at dt, ``optimum_work_at_dt`` and ``linear_ramp_work_at_dt`` (what ``work_at_dt`` converges to), and
        ``optimum_work_extrapolated`` (what the extrapolated ``work`` converges to).
    protocol : Protocol
        lambda(t) of the optimised protocol.
    iterations : dict of numpy.ndarray
        The optimiser's log, one array per column (``objective``, ``work``, ``work_stderr``, ...).
    """

    task: str
    tau: float
    alpha: float
    settings: Dict[str, float]
    work: Measured
    error: Measured
    objective: Measured
    trajectories: int
    seed: int
    references: Dict[str, float]
    baseline: ProtocolMeasurement
    protocol: Protocol
    stop_reason: str
    iterations: Dict[str, np.ndarray] = field(default_factory=dict)
    steps: Optional[int] = None
    work_at_dt: Optional[Measured] = None
    error_at_dt: Optional[Measured] = None
    work_step_bias: Optional[Measured] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "OptimizeResult":
        r = _Reader(d)
        r.get("steps", "work_at_dt", "work_at_dt_stderr", "error_at_dt", "error_at_dt_stderr", "work_step_bias",
              "work_step_bias_stderr")
        log = r.get("iterations") or []
        columns = sorted({k for item in log for k in item})
        result = cls(task=r.get("task"), tau=float(r.get("tau")), alpha=float(r.get("alpha")), settings=r.get("settings") or {},
                     work=r.measured("work"), error=r.measured("error"), objective=r.measured("objective"),
                     trajectories=int(r.get("trajectories")), seed=int(r.get("seed")),
                     references={k: _number(r.get(k)) for k in _REFERENCE_KEYS if k in d},
                     baseline=ProtocolMeasurement.from_json(r.get("baseline") or {}),
                     protocol=Protocol.from_json(r.get("protocol") or {}), stop_reason=r.get("stop_reason"),
                     iterations={c: np.array([_number(item.get(c)) for item in log]) for c in columns},
                     **_step_measurements(d), json=d)
        result.extra = r.extra()
        return result


@dataclass
class ProcessInfo:
    """Exact information measures of a hidden Markov process (:func:`thermolearn.process_info`).

    Entropies in bits (``entropy_rate`` h_mu per token, ``excess_entropy`` E, ``statistical_complexity`` C_mu);
    the cross-entropy floor for context ``n_ctx`` in nats (``ce_floor_nats``).
    """

    process: str
    tokens: int
    states: int
    generalized: bool
    stationary: np.ndarray
    entropy_rate: float
    excess_entropy: float
    statistical_complexity: Optional[float]
    measures_exact: bool
    extrapolation_error: float
    block_entropies: np.ndarray
    myopic_entropies: np.ndarray
    msp_states: int
    msp_finite: bool
    n_ctx: int
    ce_floor_nats: Optional[float]
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "ProcessInfo":
        r = _Reader(d)
        result = cls(process=r.get("process"), tokens=int(r.get("tokens")), states=int(r.get("states")),
                     generalized=bool(r.get("generalized")), stationary=_array(r.get("stationary")),
                     entropy_rate=_number(r.get("entropy_rate")), excess_entropy=_number(r.get("excess_entropy")),
                     statistical_complexity=_optional(r.get("statistical_complexity")),
                     measures_exact=bool(r.get("measures_exact")), extrapolation_error=_number(r.get("extrapolation_error")),
                     block_entropies=_array(r.get("block_entropies")), myopic_entropies=_array(r.get("myopic_entropies")),
                     msp_states=int(r.get("msp_states")), msp_finite=bool(r.get("msp_finite")), n_ctx=int(r.get("n_ctx")),
                     ce_floor_nats=_optional(r.get("ce_floor_nats")), json=d)
        result.extra = r.extra()
        return result


@dataclass
class TrainingResult:
    """A transformer trained on a process (:func:`thermolearn.beliefs_train`); the run folder is ``run``.

    ``val_ce`` is the validation cross-entropy (nats; exact over all prefixes when ``exact_validation``),
    ``gap_nats = val_ce - ce_floor_nats``.
    """

    run: str
    process: str
    exact_validation: bool
    val_ce: float
    min_val_ce: float
    ce_floor_nats: float
    gap_nats: float
    steps: int
    tokens: int
    seconds: float
    tokens_per_second: float
    checkpoints: List[Dict[str, Any]]
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "TrainingResult":
        r = _Reader(d)
        result = cls(run=r.get("run"), process=r.get("process"), exact_validation=bool(r.get("exact_validation")),
                     val_ce=_number(r.get("val_ce")), min_val_ce=_number(r.get("min_val_ce")),
                     ce_floor_nats=_number(r.get("ce_floor_nats")), gap_nats=_number(r.get("gap_nats")),
                     steps=int(r.get("steps")), tokens=int(r.get("tokens")), seconds=_number(r.get("seconds")),
                     tokens_per_second=_number(r.get("tokens_per_second")), checkpoints=list(r.get("checkpoints") or []),
                     json=d)
        result.extra = r.extra()
        return result


@dataclass
class LayerGeometry:
    """Belief regression of one residual stream (``layer`` '0'..'L' or 'concat'): R^2 and RMSE in sample, held out and
    with shuffled labels (a control that should be near or below 0), and its PCA dimensions."""

    layer: str
    r2: float
    rmse: float
    r2_held_out: float
    rmse_held_out: float
    r2_shuffled: float
    pca: Dict[str, Any]

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "LayerGeometry":
        return cls(str(d.get("layer")), _number(d.get("r2")), _number(d.get("rmse")), _number(d.get("r2_held_out")),
                   _number(d.get("rmse_held_out")), _number(d.get("r2_shuffled")), d.get("pca") or {})


@dataclass
class BeliefAnalysis:
    """Belief geometry of a trained run at its last checkpoint (:func:`thermolearn.beliefs_analyze`).

    Attributes
    ----------
    val_ce : Measured
        Validation cross-entropy (nats) and its standard error (0 when exact over all prefixes).
    r2_final, r2_concat : float
        R^2 of the weighted regression of the exact beliefs on the final residual stream, and on all streams.
    layers : list of LayerGeometry
        Per stream, held-out and shuffled-label controls included.
    plots : list of str
        Figures written (with ``plot_dir``), e.g. the belief simplex.
    """

    run: str
    process: str
    checkpoint_tokens: int
    exact: bool
    prefixes: int
    val_ce: Measured
    ce_floor_nats: float
    gap_nats: float
    r2_final: float
    rmse_final: float
    r2_concat: float
    layers: List[LayerGeometry]
    pca_dimensions: Dict[str, Any]
    factored: Optional[Dict[str, Any]]
    checkpoints: List[Dict[str, Any]]
    plots: List[str]
    extra: Dict[str, Any] = field(default_factory=dict)
    json: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "BeliefAnalysis":
        r = _Reader(d)
        result = cls(run=r.get("run"), process=r.get("process"), checkpoint_tokens=int(r.get("checkpoint_tokens")),
                     exact=bool(r.get("exact")), prefixes=int(r.get("prefixes")), val_ce=r.measured("val_ce"),
                     ce_floor_nats=_number(r.get("ce_floor_nats")), gap_nats=_number(r.get("gap_nats")),
                     r2_final=_number(r.get("r2_final")), rmse_final=_number(r.get("rmse_final")),
                     r2_concat=_number(r.get("r2_concat")),
                     layers=[LayerGeometry.from_json(g) for g in r.get("layers") or []],
                     pca_dimensions=r.get("pca_dimensions") or {}, factored=r.get("factored"),
                     checkpoints=list(r.get("checkpoints") or []), plots=list(r.get("plots") or []), json=d)
        r.get("val_ce_exact")
        result.extra = r.extra()
        return result
