"""The Python interface: arrays in and out, exact values, errors as exceptions, temporary files removed."""

import json
import os
import stat
import tempfile
import warnings

import numpy as np
import pytest

import thermolearn as tl


# ---- arrays travel intact ---------------------------------------------------------------------------------------

def test_simulated_array_matches_the_file_the_cli_wrote(trap, tmp_path):
    kept = tl.simulate("driven-trap-2d", trajectories=200, steps=10000, dt=0.001, save_every=10, seed=1,
                       out=tmp_path / "trap.npy")
    assert kept.trajectories.x.shape == (200, 1001, 2)
    assert kept.trajectories.dt == pytest.approx(0.01, rel=1e-15)
    np.testing.assert_array_equal(np.load(tmp_path / "trap.npy"), kept.trajectories.x)
    # same seed, same numbers: the in-memory run is bit-identical to the kept one
    np.testing.assert_array_equal(trap.trajectories.x, kept.trajectories.x)


def test_array_trajectories_and_path_give_the_same_estimate(trap, tmp_path):
    from_array = tl.estimate(trap.trajectories.x, dt=trap.trajectories.dt, basis="poly:1")
    from_result = tl.estimate(trap, basis="poly:1")
    path = tmp_path / "trap.npy"
    tl.simulate("driven-trap-2d", trajectories=200, steps=10000, dt=0.001, save_every=10, seed=1, out=path)
    from_path = tl.estimate(path, basis="poly:1")
    assert from_array.ep_rate == from_result.ep_rate == from_path.ep_rate
    assert from_array.n_frames == 200 * 1001 and from_array.n_transitions == 200 * 1000
    # provenance travels with Trajectories (sidecar), not with a bare array
    assert from_result.exact_ep_rate == pytest.approx(0.18, rel=1e-12)
    assert from_array.exact_ep_rate is None


def test_one_dimensional_and_single_trajectory_arrays_are_accepted():
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(0.0, np.sqrt(2 * 0.5 * 0.01), size=5001))   # free diffusion, D = 0.5, dt = 0.01
    r = tl.infer(walk, dt=0.01, basis="poly:0")
    assert r.dimension == 1 and r.n_frames == 5001
    # D from 5,000 increments: relative stderr sqrt(2 / 5000) = 2 %; 4 sigma (false failure 6e-5)
    assert abs(r.diffusion[0, 0] - 0.5) < 4 * r.diffusion_stderr[0, 0]


def test_noise_robust_infer_removes_measurement_noise_and_returns_it(trap):
    # noise of std 0.1 on every frame of the trap (D = 0.5, drift coefficient -1): the robust D was ~10 stderr high and the drift
    # -2.9; now both within 4 stderr (false failure 6e-5 each), and the noise covariance 0.01 comes back with its stderr
    x = trap.trajectories.x + 0.1 * np.random.default_rng(5).standard_normal(trap.trajectories.x.shape)
    r = tl.infer(x, dt=trap.trajectories.dt, basis="poly:1", noise_robust=True)
    assert abs(r.diffusion[0, 0] - 0.5) < 4 * r.diffusion_stderr[0, 0]
    assert abs(r.drift.coefficients[1, 0] + 1) < 4 * r.drift.stderr[1, 0]
    assert r.measurement_noise.shape == (2, 2) and "measurement_noise" not in r.extra
    assert abs(r.measurement_noise[0, 0] - 0.01) < 4 * r.measurement_noise_stderr[0, 0]
    assert tl.infer(x, dt=trap.trajectories.dt, basis="poly:1").measurement_noise is None


def test_noise_robust_infer_returns_the_amplification(trap):
    # the tilted ring dx = (1 - 1.5 sin x) dt + sqrt(2) dW, 10 x 4,001 frames every 0.05 (Heun at 0.0025) plus noise of std 0.3:
    # removing the noise from fourier:3 scales the Gram's top harmonic 6 by exp(36 Sigma / 2) = 5.1 (> 3: a noise_amplification
    # warning); poly:1's correction only subtracts (1.0); without noise_robust there is none (None). Before: no such field.
    rng = np.random.default_rng(7)
    h, frames = 0.0025, 4001
    x = 2 * np.pi * rng.random(10)
    path = np.empty((10, frames))

    def drift(y):
        return 1.0 - 1.5 * np.sin(y)
    for step in range(frames * 20):
        if step % 20 == 0:
            path[:, step // 20] = x
        w = np.sqrt(2 * h) * rng.standard_normal(10)
        predicted = x + drift(x) * h + w
        x = x + 0.5 * (drift(x) + drift(predicted)) * h + w
    noisy = path + 0.3 * rng.standard_normal(path.shape)
    with pytest.warns(tl.ThermoLearnWarning, match="multiplies its highest modes"):
        r = tl.infer(noisy[:, :, None], dt=0.05, basis="fourier:3", noise_robust=True)
    assert isinstance(r.measurement_noise_amplification, float)
    assert r.measurement_noise_amplification == pytest.approx(np.exp(18 * r.measurement_noise[0, 0]), rel=1e-10)
    assert r.measurement_noise_amplification > 3
    assert any(w["id"] == "noise_amplification" and w["amplification"] == pytest.approx(r.measurement_noise_amplification) for w in r.warnings)
    xt = trap.trajectories.x + 0.1 * np.random.default_rng(5).standard_normal(trap.trajectories.x.shape)
    assert tl.infer(xt, dt=trap.trajectories.dt, basis="poly:1", noise_robust=True).measurement_noise_amplification == 1.0
    assert tl.infer(xt, dt=trap.trajectories.dt, basis="poly:1").measurement_noise_amplification is None


def test_noise_robust_tur_removes_measurement_noise_from_the_currents_variance(trap):
    # the TUR bound with poly:1 on the trap at dt = 0.01 tends to 0.17805 (exact Gaussian moments of the currents,
    # CoarseSamplingAnalysisTests.TurLimit); noise of std 0.1 on the positions inflates the currents' variance and takes it
    # to 0.05860; with noise_robust the noise's share is removed. 4 stderr each (false failure 6e-5 each)
    x = trap.trajectories.x + 0.1 * np.random.default_rng(6).standard_normal(trap.trajectories.x.shape)
    plain = tl.estimate(x, dt=trap.trajectories.dt, method="tur", basis="poly:1")
    robust = tl.estimate(x, dt=trap.trajectories.dt, method="tur", basis="poly:1", noise_robust=True)
    assert abs(plain.ep_rate.value - 0.05860) < 4 * plain.ep_rate.stderr
    assert abs(robust.ep_rate.value - 0.17805) < 4 * robust.ep_rate.stderr
    # without the correction the second check fails
    assert abs(plain.ep_rate.value - 0.17805) > 4 * plain.ep_rate.stderr
    with pytest.raises(tl.InvalidInputError, match="--diffusion auto-robust"):
        tl.estimate(x, dt=trap.trajectories.dt, basis="poly:1", noise_robust=True)


def test_estimate_returns_the_measurement_noise_it_removes(trap):
    # noise of std 0.1 on the trap's positions (Sigma = 0.01 I): the current method with diffusion='auto-robust' and the TUR
    # bound with noise_robust return the Sigma they removed, its diagonal within 4 of its stderr of 0.01 (false failure 6e-5
    # each), amplification 1 (poly:1, affine sums); without the robust option None. Before: no such field (extra held it).
    x = trap.trajectories.x + 0.1 * np.random.default_rng(8).standard_normal(trap.trajectories.x.shape)
    for options in ({"method": "current", "diffusion": "auto-robust"}, {"method": "tur", "noise_robust": True}):
        r = tl.estimate(x, dt=trap.trajectories.dt, basis="poly:1", **options)
        assert r.measurement_noise.shape == (2, 2) and r.measurement_noise_stderr.shape == (2, 2)
        assert "measurement_noise" not in r.extra
        for i in range(2):
            assert abs(r.measurement_noise[i, i] - 0.01) < 4 * r.measurement_noise_stderr[i, i]
        assert isinstance(r.measurement_noise_amplification, float) and r.measurement_noise_amplification == 1.0
    # without it the current method's coarse-sampling correction is large (the noise's share differs at lags 1 and 2), and its
    # warning names the option that removes the noise; the TUR bound (one lag) has no such correction
    with pytest.warns(tl.ThermoLearnWarning, match="--diffusion auto-robust"):
        plain = tl.estimate(x, dt=trap.trajectories.dt, basis="poly:1", method="current", diffusion="auto")
    for r in (plain, tl.estimate(x, dt=trap.trajectories.dt, basis="poly:1", method="tur")):
        assert r.measurement_noise is None and r.measurement_noise_stderr is None and r.measurement_noise_amplification is None


def test_energetics_table_is_returned_per_trajectory(trap):
    e = trap.energetics
    assert set(["traj", "work", "heat", "medium_entropy"]) <= set(e)
    assert len(e["work"]) == 200
    assert e["work"].mean() == pytest.approx(trap.mean_work.value, rel=1e-12)


# ---- estimates against exact values -----------------------------------------------------------------------------

def test_current_estimate_agrees_with_the_exact_rate_within_its_stderr(trap):
    exact = tl.exact("driven-trap-2d").ep_rate
    assert exact == pytest.approx(2 * 1 * 0.3 ** 2 / 1, rel=1e-12)   # 2 mu eps^2 / k
    est = tl.estimate(trap, basis="poly:1")
    # 4 standard errors: a calibrated Gaussian estimate fails this 6e-5 of the time (the seed is fixed, so never here)
    assert abs(est.ep_rate.z(exact)) < 4, est.ep_rate
    assert est.ep_rate.stderr < 0.25 * exact   # informative: the bar is tighter than a quarter of the value
    assert est.quantity is not None and est.exact_of_quantity == pytest.approx(exact, rel=1e-12)   # the same quantity
    tur = tl.estimate(trap, basis="poly:1", method="tur")
    assert tur.quantity != est.quantity and "bound" in tur.exact_comparison
    assert tur.ep_rate.value < exact + 4 * tur.ep_rate.stderr   # a lower bound


def test_exact_values_of_catalogue_models():
    beads = tl.exact("bead-spring", params={"n": 5})
    assert beads.ep_rate == pytest.approx(0.629817, abs=1e-6)
    linear = tl.exact("linear", params={"A": [[1, 0.5], [-0.5, 1]]})
    np.testing.assert_allclose(linear.stationary_covariance, np.eye(2), atol=1e-12)


def test_process_info_matches_the_documented_floor():
    info = tl.process_info("mess3", params={"x": 0.05, "a": 0.85}, n_ctx=10)
    assert info.tokens == 3 and info.states == 3
    assert info.ce_floor_nats == pytest.approx(0.802512, abs=1e-6)
    np.testing.assert_allclose(info.stationary, np.full(3, 1 / 3), atol=1e-12)
    assert info.entropy_rate < np.log2(3)


def test_optimize_reports_the_schmiedl_seifert_references():
    r = tl.optimize("translate-trap", tau=1, iterations=5, trajectories=400, seed=1)
    assert r.references["optimum_work"] == pytest.approx(1 / 3, rel=1e-12)
    assert r.references["linear_ramp_work"] == pytest.approx(np.exp(-1), rel=1e-12)
    assert r.protocol.lam.shape == (len(r.protocol.t), 1)
    assert len(r.iterations["work"]) == 5
    # W >= W* for any protocol; 4 stderr below allowed for noise
    assert r.work.value > r.references["optimum_work"] - 4 * r.work.stderr


# ---- errors become exceptions -----------------------------------------------------------------------------------

def test_bad_input_raises_invalid_input_error_with_the_cli_message(trap):
    with pytest.raises(tl.InvalidInputError) as caught:
        tl.estimate(trap, basis="poly:x")
    assert caught.value.returncode == 2
    assert "poly:x" in str(caught.value) and not str(caught.value).startswith("error:")
    assert isinstance(caught.value, ValueError)


def test_unknown_model_is_an_invalid_input_error():
    with pytest.raises(tl.InvalidInputError, match="no-such-model"):
        tl.exact("no-such-model")


def test_python_side_errors_before_the_cli_runs():
    with pytest.raises(ValueError, match="dt"):
        tl.estimate(np.zeros((2, 10, 1)))
    with pytest.raises(ValueError, match="axes"):
        tl.estimate(np.zeros((2, 2, 2, 2)), dt=0.1)
    with pytest.raises(FileNotFoundError):
        tl.estimate("/no/such/file.npy")


def _fake_cli(tmp_path, code, message):
    script = tmp_path / "fake-thermolearn"
    script.write_text(f"#!/bin/sh\necho 'progress: 50%' >&2\necho 'error: {message}' >&2\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_exit_code_selects_the_exception(tmp_path, monkeypatch):
    monkeypatch.setenv("THERMOLEARN_CLI", str(_fake_cli(tmp_path, 1, "libtorch is missing")))
    with pytest.raises(tl.CliError) as caught:
        tl.exact("linear")
    assert caught.value.returncode == 1 and str(caught.value) == "libtorch is missing"
    assert not isinstance(caught.value, tl.InvalidInputError)
    monkeypatch.setenv("THERMOLEARN_CLI", str(_fake_cli(tmp_path, 2, "--at must be a finite time")))
    with pytest.raises(tl.InvalidInputError, match="--at must be a finite time"):
        tl.exact("linear")


def test_missing_cli_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("THERMOLEARN_CLI", str(tmp_path / "nothing-here"))
    with pytest.raises(tl.CliNotFoundError, match="THERMOLEARN_CLI"):
        tl.find_cli()


# ---- temporary files are removed ----------------------------------------------------------------------------------

def test_temporary_folders_are_removed_after_success_and_failure(trap, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    tl.estimate(trap.trajectories.x, dt=0.01, basis="poly:1")
    tl.simulate("linear", trajectories=4, steps=10, dt=0.01, seed=2)
    with pytest.raises(tl.InvalidInputError):
        tl.estimate(trap, basis="poly:x")
    tl.report([tl.exact("bead-spring")], tmp_path / "r.html")
    assert os.listdir(scratch) == []
    assert (tmp_path / "r.html").stat().st_size > 1000


# ---- the JSON may grow ------------------------------------------------------------------------------------------

def test_unknown_keys_are_kept_and_quantity_is_read():
    d = {"ep_rate": 0.2, "stderr": 0.01, "ep_rate_debiased": 0.19, "method": "tur", "basis": "poly:1", "n_frames": 10,
         "n_transitions": 9, "observed_time": 0.9, "dt": 0.1, "errors": "jackknife", "diffusion": [],
         "diffusion_source": "not used", "input": "x.npy", "quantity": "tur_lower_bound", "exact_of_quantity": 0.25,
         "new_key": [1, 2]}
    r = tl.EstimateResult.from_json(d)
    assert r.quantity == "tur_lower_bound" and r.exact_of_quantity == 0.25 and r.quantity_description is None
    assert r.extra == {"new_key": [1, 2]}
    assert r.ep_rate == tl.Measured(0.2, 0.01) and r.stderr == 0.01
    d["ep_rate"] = None   # the CLI writes NaN as null
    assert np.isnan(tl.EstimateResult.from_json(d).ep_rate.value)


# ---- values known exactly -----------------------------------------------------------------------------------------

def test_a_value_with_zero_stderr_is_compared_exactly():
    # beliefs_analyze's val_ce has stderr 0 when it is exact over all prefixes; a work that is 0 on every path too
    exact = tl.Measured(1.25, 0.0)
    assert exact.z(1.25) == 0.0 and exact.agrees(1.25)
    assert exact.z(1.0) == float("inf") and exact.z(2.0) == float("-inf")
    assert not exact.agrees(1.0)


def test_report_refuses_no_results_and_items_that_are_not_results(tmp_path):
    # without a result the CLI saw '--in --out FILE' and answered "Option '--out' is required"
    with pytest.raises(ValueError, match="no results"):
        tl.report([], tmp_path / "r.html")
    with pytest.raises(TypeError, match="item 0 is a Measured"):
        tl.report([tl.Measured(1.0, 0.1)], tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_trajectories_refuse_a_dt_the_sidecar_cannot_hold():
    # a NaN dt used to reach the CLI as a temporary sidecar that was "not valid JSON"
    x = np.zeros((1, 5, 1))
    for dt in (float("nan"), float("inf"), 0.0, -0.1):
        with pytest.raises(ValueError, match="dt must be a positive finite"):
            tl.Trajectories(x, dt)
    with pytest.raises(ValueError, match="start_time"):
        tl.Trajectories(x, 0.1, start_time=float("nan"))


def test_parameters_from_numpy_values_and_a_single_string():
    reference = tl.exact("linear", params={"A": [[1, 0.5], [-0.5, 1]]}).ep_rate
    # numpy integers inside a list were "not JSON serializable"; a lone 'name=value' was split into characters
    rows = np.array([[1, 0.5], [-0.5, 1]])
    assert tl.exact("linear", params={"A": [list(r) for r in rows]}).ep_rate == reference
    assert tl.exact("linear", params={"A": [[np.int64(1), 0.5], [-0.5, np.int64(1)]]}).ep_rate == reference
    assert tl.exact("bead-spring", params="n=5").ep_rate == tl.exact("bead-spring", params={"n": 5}).ep_rate


def test_the_cli_warnings_reach_the_notebook(trap):
    # the (x, v) columns of underdamped data, frames 0.01 apart: the positions move on smooth paths and richardson moves the
    # estimate by 43 %, so the CLI warns twice (stderr and JSON); the warnings used to stay in result.extra, and stderr was dropped
    u = tl.simulate("underdamped-driven-trap", trajectories=20, steps=4000, dt=0.001, save_every=10, seed=5)
    with pytest.warns(tl.ThermoLearnWarning, match="coarse-sampling correction"):
        est = tl.estimate(u)
    assert sorted(w["id"] for w in est.warnings) == ["coarse_sampling", "smooth_paths"] and "warnings" not in est.extra
    # infer lists its warnings too; tl.infer left them in result.extra, unseen
    with pytest.warns(tl.ThermoLearnWarning, match="the data: the coordinates move on smooth paths") as caught:
        fit = tl.infer(u, columns=[0, 1])
    assert [w["id"] for w in fit.warnings] == ["smooth_paths"] and "warnings" not in fit.extra
    assert all(w.filename == __file__ for w in caught)   # issued at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # frames close enough: no warning
        assert tl.estimate(trap, basis="poly:1").warnings == []


def test_infer_reports_continuous_time_fields_keeps_the_lag_dt_ones_and_warns_when_frames_are_too_far_apart(trap):
    # driven trap saved every 1.0 (exact propagator): the correction moves the drift by about 25 % of its size, above the 20 %
    # trusted, so the CLI warns; the warning used to stay in result.extra, and infer issued none in Python
    coarse = tl.simulate("driven-trap-2d", trajectories=20, steps=2000, dt=1.0, seed=31)
    with pytest.warns(tl.ThermoLearnWarning, match="coarse-sampling correction of the drift"):
        r = tl.infer(coarse)
    assert [w["id"] for w in r.warnings] == ["coarse_sampling"] and "warnings" not in r.extra
    assert r.correction == "richardson" and 0.2 < r.drift_correction_fraction < 0.3
    lag_dt = tl.infer(coarse, correction="none")
    assert lag_dt.correction == "none" and lag_dt.drift_uncorrected is None and lag_dt.warnings == []
    # the lag-dt fields are those infer reported before, kept bit for bit beside the corrected ones
    np.testing.assert_array_equal(r.drift_uncorrected.coefficients, lag_dt.drift.coefficients)
    np.testing.assert_array_equal(r.score_uncorrected.stderr, lag_dt.score.stderr)
    np.testing.assert_array_equal(r.mean_local_velocity_uncorrected.coefficients, lag_dt.mean_local_velocity.coefficients)
    np.testing.assert_array_equal(r.diffusion_uncorrected, lag_dt.diffusion)
    # lag-dt drift of x0 in x0: (exp(-dt) cos(0.3 dt) - 1)/dt = -0.649, far from -1; the corrected one moves most of the way
    assert abs(r.drift.coefficients[1, 0] + 1) < 0.5 * abs(r.drift_uncorrected.coefficients[1, 0] + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # frames 0.01 apart: no warning
        assert tl.infer(trap).warnings == []


def test_the_cli_pipes_are_closed_after_success_and_failure(monkeypatch):
    import subprocess
    started = []
    real = subprocess.Popen

    def recording(*args, **kwargs):
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", recording)
    tl.exact("linear")
    with pytest.raises(tl.InvalidInputError):
        tl.exact("no-such-model")
    assert len(started) == 2
    assert all(p.stdout.closed and p.stderr.closed for p in started)


def test_messages_about_an_array_name_the_data_not_a_temporary_file(trap):
    x = trap.trajectories.x.copy()
    x[3, 50, 1] = np.nan
    with pytest.raises(tl.InvalidInputError) as caught:
        tl.estimate(x, dt=0.01)
    message = str(caught.value)
    assert message.startswith("the data: value NaN at trajectory 3, frame 50, coordinate 1"), message
    assert "input.npy" not in message and caught.value.returncode == 2
    with pytest.raises(tl.InvalidInputError, match="not a coordinate of the data"):
        tl.infer(trap, columns=[5])


_DOTNET_WORDS = ("System.", "Double", "Int32", "Int64", "UInt64", "Nullable", "expected type")


def test_messages_shown_to_python_name_no_dotnet_types(tmp_path):
    # a value its option cannot hold was "Cannot parse argument '-1' for option '--seed' as expected type 'System.UInt64'",
    # and a sidecar value of the wrong kind "cannot be converted to a 'System.Double'"
    cases = [
        (lambda: tl.simulate("linear", trajectories=2, steps=10, dt=0.1, seed=-1),
         "--seed '-1' is negative (give a whole number from 0 to 18446744073709551615)."),
        (lambda: tl.simulate("linear", trajectories=2.5, steps=10, dt=0.1), "--trajectories '2.5' is not a whole number."),
        (lambda: tl.exact("linear", at="soon"), "--at 'soon' is not a number."),
        (lambda: tl.estimate(np.zeros((2, 10, 1)), dt=0.1, windows=2.5), "--windows '2.5' is not a whole number."),
    ]
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(2).normal(size=(2, 20, 1)))
    (tmp_path / "x.npy.json").write_text('{"dt": "0.01"}')
    cases.append((lambda: tl.estimate(path), f'{path}.json: "dt" is "0.01"; it must be a number (or null).'))
    for call, message in cases:
        with pytest.raises(tl.InvalidInputError) as caught:
            call()
        assert str(caught.value) == message
        assert not any(word in caught.value.stderr for word in _DOTNET_WORDS), caught.value.stderr


# ---- shapes and kinds of arrays ---------------------------------------------------------------------------------

def test_a_two_dimensional_array_is_refused_as_ambiguous_and_the_two_readings_agree_with_the_cli():
    # Python read (A, B) as one trajectory of A frames x B coordinates; the CLI reads a 2-D .npy as A trajectories of
    # B frames of one coordinate, so the same array gave different estimates as an array and as a file
    rng = np.random.default_rng(4)
    walks = np.cumsum(rng.normal(0.0, np.sqrt(2 * 0.5 * 0.01), size=(400, 2)), axis=0)   # free diffusion, D = 0.5, dt = 0.01
    for call in (lambda: tl.estimate(walks, dt=0.01), lambda: tl.infer(walks, dt=0.01), lambda: tl.Trajectories(walks, 0.01)):
        with pytest.raises(ValueError, match=r"2-D array of shape \(400, 2\) is ambiguous: pass x\[None\] for one trajectory of "
                                             r"400 frames x 2 coordinates"):
            call()
    one = tl.infer(walks[None], dt=0.01, basis="poly:0")
    assert one.dimension == 2 and one.n_frames == 400
    # D from 399 increments per coordinate: relative stderr sqrt(2 / 399) = 7 %; 4 sigma (false failure 6e-5 each)
    assert all(abs(one.diffusion[i, i] - 0.5) < 4 * one.diffusion_stderr[i, i] for i in range(2)), one.diffusion


def test_a_two_dimensional_npy_file_is_read_as_the_cli_reads_it_and_the_note_reaches_python(tmp_path):
    rng = np.random.default_rng(6)
    x = np.cumsum(rng.normal(0.0, np.sqrt(2 * 0.5 * 0.01), size=(30, 100)), axis=1)   # 30 walks of 100 frames, D = 0.5
    path = tmp_path / "walks.npy"
    np.save(path, x)
    with pytest.warns(tl.ThermoLearnWarning, match=r"walks.npy is a 2-D array of shape \(30, 100\): read as 30 trajectories x "
                                                    r"100 frames of one coordinate"):
        from_file = tl.infer(path, dt=0.01, basis="poly:0")
    from_array = tl.infer(x[:, :, None], dt=0.01, basis="poly:0")
    assert from_file.dimension == from_array.dimension == 1 and from_file.n_frames == from_array.n_frames == 3000
    np.testing.assert_array_equal(from_file.diffusion, from_array.diffusion)
    assert abs(from_file.diffusion[0, 0] - 0.5) < 4 * from_file.diffusion_stderr[0, 0]


def test_arrays_that_are_not_real_numbers_are_refused_before_the_cli_runs():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 20, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # numpy's ComplexWarning was all a user saw while the imaginary part was dropped
        for bad in (x + 1j * x, (x + 0j).astype(np.complex64)):
            with pytest.raises(TypeError, match=r"complex numbers .*would drop the imaginary part"):
                tl.estimate(bad, dt=0.1)
            with pytest.raises(TypeError, match="complex"):
                tl.Trajectories(bad, 0.1)
        with pytest.raises(TypeError, match="booleans"):
            tl.estimate(x > 0, dt=0.1)
        with pytest.raises(TypeError, match="Python objects"):
            tl.estimate(np.array([[[1.0], [None]]], dtype=object), dt=0.1)
        with pytest.raises(TypeError, match="not numbers"):
            tl.estimate(x.astype(str), dt=0.1)   # numpy would read the strings as the numbers they spell
        with pytest.raises(ValueError, match="2 masked value"):
            tl.estimate(np.ma.masked_greater(np.arange(6.0).reshape(1, 6, 1), 3.5), dt=0.1)
        with pytest.raises(ValueError, match="beyond 2\\*\\*53"):
            tl.estimate(np.arange(20, dtype=np.int64).reshape(1, 20, 1) + 2 ** 60, dt=0.1)
        with pytest.raises(ValueError, match="0 axes"):
            tl.estimate(np.float64(1.0), dt=0.1)   # np.ascontiguousarray made it one trajectory of one frame
        with pytest.raises(ValueError, match=r"shape \(0,\) is empty"):
            tl.estimate(np.zeros(0), dt=0.1)
        with pytest.raises(TypeError, match="complex"):
            tl.estimate(x, dt=0.1, diffusion=np.array([[1 + 1j]]))   # the matrix's imaginary part was dropped too
        with pytest.raises(TypeError, match="parameter A: .*complex"):
            tl.exact("linear", params={"A": np.eye(2) * (1 + 1j)})
        with pytest.raises(TypeError, match="seed"):
            tl.Trajectories(x, 0.1, seed=1.5)
        with pytest.raises(ValueError, match="seed"):
            tl.Trajectories(x, 0.1, seed=-1)
        with pytest.raises(TypeError, match="model"):
            tl.Trajectories(x, 0.1, model=5)
        with pytest.raises(ValueError, match="parameters must be finite"):   # was the CLI's "not valid JSON" about the sidecar
            tl.Trajectories(x, 0.1, model="driven-trap-2d", parameters={"eps": np.nan})


def test_integer_arrays_and_numpy_provenance_are_converted_exactly():
    rng = np.random.default_rng(7)
    counts = np.cumsum(rng.integers(-3, 4, size=(4, 200, 1)), axis=1).astype(np.int32)
    as_int = tl.estimate(counts, dt=0.1, basis="poly:1")
    assert as_int.ep_rate == tl.estimate(counts.astype(np.float64), dt=0.1, basis="poly:1").ep_rate
    # numpy scalars in the provenance were "not JSON serializable"
    t = tl.Trajectories(counts, np.float32(0.5), seed=np.uint64(3), parameters={"k": np.float64(2.0)})
    assert t.seed == 3 and type(t.seed) is int and t.parameters == {"k": 2.0}
    assert tl.estimate(t, basis="poly:1").ep_rate.value == pytest.approx(as_int.ep_rate.value / 5, rel=1e-12)   # dt 0.5, not 0.1


# ---- absent quantities ------------------------------------------------------------------------------------------

def test_a_jump_process_has_no_energetics_and_says_so_with_none():
    # a jump process has no work or heat; the CLI writes null, which came back as Measured(nan, nan)
    sim = tl.simulate("mjp", trajectories=40, steps=2000, dt=0.05, seed=3)
    assert sim.mean_work is None and sim.mean_heat is None and sim.mean_medium_entropy is None
    assert sim.scheme == "exact" and sim.exact_ep_rate == pytest.approx(np.log(2), rel=1e-12)   # the driven 3-ring: ln 2
    est = tl.estimate(sim, method="jump")
    assert abs(est.ep_rate.z(sim.exact_ep_rate)) < 4, est.ep_rate   # 4 sigma: false failure 6e-5
    trap = tl.simulate("driven-trap-2d", trajectories=4, steps=100, dt=0.01, seed=3)
    assert isinstance(trap.mean_work, tl.Measured) and np.isfinite(trap.mean_work.value)


# ---- docstrings tell the CLI's defaults -------------------------------------------------------------------------

_COMMANDS = {tl.simulate: ["simulate"], tl.exact: ["exact"], tl.estimate: ["estimate"], tl.infer: ["infer"],
             tl.optimize: ["optimize"], tl.process_info: ["process", "info"], tl.beliefs_train: ["beliefs", "train"],
             tl.beliefs_analyze: ["beliefs", "analyze"], tl.report: ["report"], tl.evaluate_protocol: ["evaluate-protocol"]}


def _documented_parameters(function):
    """{name: description} from a numpy-style docstring's Parameters section (a line 'a, b : type' documents both)."""
    import inspect
    import re
    doc = inspect.getdoc(function)
    section = doc.split("Parameters\n----------\n", 1)[1].split("\n\n", 1)[0] if "Parameters\n----------\n" in doc else ""
    described, names = {}, []
    for line in section.splitlines():
        if not line.startswith(" "):
            names = [n.strip() for n in line.split(":")[0].split(",")]
            for n in names:
                described[n] = ""
        else:
            for n in names:
                described[n] += " " + line.strip()
    return {n: re.sub(r"\s+", " ", d).strip() for n, d in described.items()}


def _help_defaults(command):
    """{flag: (its description, its [default: X] or None)} from the CLI's --help."""
    import re
    text = tl.run_cli([*command, "--help"])
    options = {}
    for block in re.split(r"\n(?=  -)", text.split("Options:", 1)[1]):
        match = re.match(r"\s*(?:-\S+, )?(--[\w-]+)(?: <[^>]+>)?(?: \(REQUIRED\))?\s+(.*)", block, re.S)
        if match:
            description = re.sub(r"\s+", " ", match.group(2)).strip()
            default = re.search(r"\[default: ([^\]]*)\]$", description)
            options[match.group(1)] = (description, default.group(1) if default else None)
    return options


def test_every_default_a_docstring_states_is_the_clis():
    # simulate's docstring said scheme 'euler-maruyama' (default); the CLI's default is 'exact' for linear models,
    # 'euler-maruyama' for the other overdamped models and 'baoab' for underdamped ones
    import inspect
    import re
    stated = re.compile(r"``'([^']+)'`` \(default[);]|\(default ``'([^']+)'``\)|\(default (\d[\d.]*)\)")
    checked = []
    for function, command in _COMMANDS.items():
        options = _help_defaults(command)
        for name, description in _documented_parameters(function).items():
            flag = "--" + name.replace("_", "-")
            for match in stated.finditer(description):
                claimed = next(g for g in match.groups() if g is not None)
                assert flag in options, f"{function.__name__}: {name} has no CLI option {flag}"
                help_text, default = options[flag]
                # the CLI states it as [default: X] or as 'X (default' / '(default X)' in words, with no condition
                plain = default == claimed or re.search(rf"\b{re.escape(claimed)} \(default[);]|\(default {re.escape(claimed)}\)", help_text)
                assert plain, f"{function.__name__}({name}=...): the docstring says the default is {claimed!r}; {command} --help says: {help_text}"
                checked.append((function.__name__, name))
        # a default in the signature is passed as it is, so it must be the CLI's too (else the two interfaces differ)
        for name, parameter in inspect.signature(function).parameters.items():
            flag = "--" + name.replace("_", "-")
            if any(parameter.default is v for v in (None, False, inspect.Parameter.empty)) or flag not in options or options[flag][1] is None:
                continue
            assert str(parameter.default) == options[flag][1], f"{function.__name__}({name}={parameter.default!r}): {command} --help: {options[flag][0]}"
            checked.append((function.__name__, name))
    # at (exact), method, basis, diffusion (estimate), basis (infer); save_every and seed (simulate)
    assert len(checked) >= 7, checked
    # defaults that depend on the model, checked against what the CLI does
    doc = _documented_parameters(tl.simulate)["scheme"]
    assert "``'exact'`` (default for linear models" in doc and "``'euler-maruyama'`` (default for the other overdamped" in doc
    assert "``'baoab'`` (underdamped models, their default)" in doc
    for model, scheme in (("driven-trap-2d", "exact"), ("linear", "exact"), ("double-well", "euler-maruyama"),
                          ("underdamped-driven-trap", "baoab")):
        assert tl.simulate(model, trajectories=2, steps=10, dt=0.01).scheme == scheme, model


def test_an_euler_chain_at_its_own_step_warns_from_memory_as_from_its_file(tmp_path):
    # the CLI warns that the coarse-sampling correction over-corrects an Euler-Maruyama chain observed at its own step;
    # Trajectories dropped the scheme and step from the provenance, so tl.estimate(sim) never warned, and from a file the
    # warning sat in result.extra["warning"], unseen
    beads = dict(params={"n": 3}, trajectories=4, steps=400, dt=0.01, scheme="euler-maruyama", seed=1)
    sim = tl.simulate("bead-spring", **beads, out=tmp_path / "euler.npy")
    assert sim.trajectories.scheme == "euler-maruyama" and sim.trajectories.integration_dt == pytest.approx(0.01, rel=1e-15)
    for data, name in ((sim, "the data"), (tmp_path / "euler.npy", str(tmp_path / "euler.npy"))):
        with pytest.warns(tl.ThermoLearnWarning, match="made by Euler-Maruyama with its step equal to the frame spacing") as caught:
            est = tl.estimate(data, basis="poly:1")
        assert [w["id"] for w in est.warnings] == ["euler_step"] and est.warnings[0]["message"].startswith(name + " was made")
        assert any(str(w.message).startswith(name + " was made") for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine = tl.simulate("bead-spring", **dict(beads, steps=4000, dt=0.001), save_every=10)
        assert fine.trajectories.integration_dt == pytest.approx(0.001, rel=1e-15) and fine.trajectories.dt == pytest.approx(0.01, rel=1e-15)
        assert tl.estimate(fine, basis="poly:1").warnings == []
        assert tl.estimate(sim, basis="poly:1", correction="none").warnings == []


def test_a_bool_for_an_option_that_takes_a_value_is_refused_and_switches_still_switch():
    # bootstrap=True became the bare flag '--bootstrap', and the CLI read the next argument, --json, as its value
    rng = np.random.default_rng(8)
    walk = np.cumsum(rng.normal(0.0, np.sqrt(2 * 0.5 * 0.01), size=(10, 300, 1)), axis=1)   # free diffusion, D = 0.5
    with pytest.raises(TypeError, match=r"bootstrap=True: bootstrap takes a value"):
        tl.estimate(walk, dt=0.01, bootstrap=True)
    with pytest.raises(TypeError, match=r"windows=True"):
        tl.estimate(walk, dt=0.01, windows=np.True_)
    plain, robust = tl.infer(walk, dt=0.01, basis="poly:0"), tl.infer(walk, dt=0.01, basis="poly:0", noise_robust=True)
    assert plain.diffusion_method != robust.diffusion_method
    for r in (plain, robust):   # D = 0.5 within 4 stderr either way (false failure 6e-5 each)
        assert abs(r.diffusion[0, 0] - 0.5) < 4 * r.diffusion_stderr[0, 0], (r.diffusion_method, r.diffusion, r.diffusion_stderr)


# ---- estimate's verdict and basis check, optimize's chain at dt: typed, not left in extra --------------------------

def test_the_basis_check_and_the_verdict_against_the_exact_value_are_typed(trap):
    # basis_check, exact_verdict, exact_difference_z and exact_verdict_reason landed untyped in result.extra
    with pytest.warns(tl.ThermoLearnWarning, match="poly:0 does not span the thermodynamic force"):
        short = tl.estimate(trap, basis="poly:0")
    exact = 2 * 1 * 0.3 ** 2 / 1   # 2 mu eps^2 / k
    assert short.exact_of_quantity == pytest.approx(exact, rel=1e-12)
    # a constant d carries no current in the stationary state: the estimate is ~0, far below sigma, and the verdict says why
    assert short.exact_difference_z == pytest.approx((short.ep_rate.value - exact) / short.ep_rate.stderr, rel=1e-12)
    assert short.exact_verdict == "below" and short.exact_difference_z < -4
    assert "variational lower bound" in short.exact_verdict_reason and "poly:0 does not span the force" in short.exact_verdict_reason
    check = short.basis_check
    assert isinstance(check, tl.BasisCheck) and (check.basis, check.richer_basis, check.short, check.skipped) == ("poly:0", "poly:2", True, None)
    assert check.gain_z == pytest.approx(check.gain.value / check.gain.stderr, rel=1e-12) and check.gain_z > 3
    # poly:2 spans the force -k x + eps J x (affine): its refit agrees with sigma within 4 of its stderr (false failure 6e-5)
    assert abs(check.ep_rate_debiased - exact) < 4 * check.ep_rate.stderr, check
    assert [w["id"] for w in short.warnings] == ["basis_short"]
    fine = tl.estimate(trap, basis="poly:1")
    assert fine.exact_verdict == "consistent" and fine.exact_verdict_reason is None and abs(fine.exact_difference_z) <= 3
    assert (fine.basis_check.richer_basis, fine.basis_check.short) == ("poly:3", False)
    assert fine.exact_ep_rate_quantity == "continuous_ep_rate" and fine.exact_sampled_chain_ep_rate is not None
    for r in (short, fine):
        assert not {"basis_check", "exact_verdict", "exact_difference_z", "exact_verdict_reason", "exact_ep_rate_quantity",
                    "exact_sampled_chain_ep_rate"} & set(r.extra), r.extra
    # None when absent: no model behind a bare array (no verdict), no basis check for tur or when asked for none
    bare = tl.estimate(trap.trajectories.x, dt=trap.trajectories.dt, basis="poly:1", method="tur")
    assert bare.exact_verdict is None and bare.exact_difference_z is None and bare.exact_verdict_reason is None
    assert bare.basis_check is None and bare.exact_sampled_chain_ep_rate is None
    assert tl.estimate(trap, basis="poly:1", basis_check="none").basis_check is None
    skipped = tl.EstimateResult.from_json({"ep_rate": 0.2, "stderr": 0.01, "method": "current", "basis": "fourier:3", "n_frames": 10,
                                           "n_transitions": 9, "dt": 0.1, "basis_check": {"basis": "fourier:3", "richer_basis": None,
                                                                                        "skipped": "no richer basis"}})
    assert skipped.basis_check.skipped == "no richer basis" and skipped.basis_check.gain is None and not skipped.basis_check.short


def test_optimize_types_the_chain_at_the_tasks_dt_and_its_step_bias():
    # work_at_dt, error_at_dt, work_step_bias (and the chain's exact references) landed untyped in result.extra
    r = tl.optimize("translate-trap", tau=1, iterations=2, trajectories=400, seed=1)
    assert r.steps == r.baseline.steps and r.steps > 0
    for m in (r, r.baseline):
        assert all(isinstance(q, tl.Measured) for q in (m.work_at_dt, m.error_at_dt, m.work_step_bias))
        # the bias is W_dt minus the extrapolated W per path, so the means obey work = work_at_dt - work_step_bias exactly
        assert m.work.value == pytest.approx(m.work_at_dt.value - m.work_step_bias.value, rel=0, abs=1e-12)
    # the ramp's chain at dt against its exact mean on that chain, and the extrapolated work against W_lin = 1/e: 4 stderr each
    assert r.baseline.work_at_dt.agrees(r.references["linear_ramp_work_at_dt"], sigmas=4)
    assert r.baseline.work.agrees(r.references["linear_ramp_work"], sigmas=4)
    assert r.references["optimum_work_extrapolated"] == pytest.approx(1 / 3, rel=1e-6)
    assert r.references["optimum_work_at_dt"] != r.references["optimum_work"]   # Euler's bias at dt = tau / steps
    assert not {k for k in r.extra if "at_dt" in k or "step_bias" in k or k == "steps"}, r.extra
    old = tl.ProtocolMeasurement.from_json({"work": 1.0, "work_stderr": 0.1, "error": 0, "error_stderr": 0, "objective": 1.0,
                                            "objective_stderr": 0.1, "trajectories": 4, "seed": 1})
    assert old.work_at_dt is None and old.work_step_bias is None and old.steps is None


# ---- active matter ------------------------------------------------------------------------------------------------

def test_simulate_runs_the_active_models_and_returns_their_snapshots(tmp_path):
    # tl.simulate required trajectories (which the CLI refuses for aoup/abp) and read the snapshots as trajectories
    free = {"n": 1000, "potential": "none"}   # no pair force, no trap, eps = 0: x += v0 g dt each step, g exact OU
    aoup = tl.simulate("aoup", params=free, steps=40, dt=0.01, seed=3, out=tmp_path / "aoup.npy")
    assert isinstance(aoup, tl.ActiveSimulationResult) and aoup.columns == ["x", "y", "gx", "gy"]
    assert aoup.x.shape == aoup.g.shape == (41, 1000, 2) and aoup.theta is None and aoup.frame_dt == pytest.approx(0.01, rel=1e-15)
    np.testing.assert_array_equal(np.load(tmp_path / "aoup.npy"), aoup.snapshots)
    np.testing.assert_array_equal(aoup.snapshots[..., :2], aoup.x)
    np.testing.assert_array_equal(aoup.snapshots[..., 2:], aoup.g)
    # Euler for x with the step's g: each frame's increment (minimum image in the box) is v0 g dt to rounding
    dx = np.diff(aoup.x, axis=0)
    dx -= aoup.box * np.round(dx / aoup.box)
    np.testing.assert_allclose(dx, 0.01 * aoup.g[:-1], rtol=0, atol=1e-12)
    assert aoup.x.min() >= 0 and aoup.x.max() < aoup.box
    # g is exactly N(0, I): variance 1 over 2,000 values of the last frame, stderr sqrt(2 / 2000); 4 sigma (false failure 6e-5)
    g = aoup.g[-1].ravel()
    assert abs(g.var() - 1) < 4 * np.sqrt(2 / g.size), g.var()
    abp = tl.simulate("abp", params=free, steps=40, dt=0.01, seed=3)
    assert abp.columns == ["x", "y", "theta"] and abp.theta.shape == (41, 1000) and abp.g is None
    dx = np.diff(abp.x, axis=0)
    dx -= abp.box * np.round(dx / abp.box)
    heading = np.stack([np.cos(abp.theta[:-1]), np.sin(abp.theta[:-1])], axis=-1)
    np.testing.assert_allclose(dx, 0.01 * heading, rtol=0, atol=1e-12)   # x += v0 e(theta) dt, v0 = 1
    # theta diffuses with Dr = 1: increments of variance 2 Dr dt; 40,000 of them, relative stderr sqrt(2 / 40000); 4 sigma
    steps = np.diff(abp.theta, axis=0).ravel()
    assert abs(steps.var() / (2 * 0.01) - 1) < 4 * np.sqrt(2 / steps.size)
    assert abp.json["output"] == "<in memory: result.snapshots>"
    # an initial state from an array is frame 0 (burn_in 0); the ensemble options are refused by the CLI
    start = aoup.snapshots[-1].copy()
    again = tl.simulate("aoup", params=free, steps=10, dt=0.01, seed=4, initial=start)
    np.testing.assert_array_equal(again.snapshots[0], start)
    assert tl.simulate("aoup", params=free, steps=10, dt=0.01, seed=4, burn_in=10).frames == 11
    with pytest.raises(tl.InvalidInputError, match="--trajectories does not apply to aoup"):
        tl.simulate("aoup", params=free, trajectories=4, steps=10, dt=0.01)
    with pytest.raises(tl.InvalidInputError, match="--trajectories is required"):
        tl.simulate("linear", steps=10, dt=0.01)


# ---- what the results say about the data and where files are ---------------------------------------------------

def test_input_names_the_array_not_a_deleted_temporary_file(trap, tmp_path):
    # result.json["input"] was /tmp/thermolearn-.../input.npy, removed when the call returned (and shown so by tl.report)
    x = trap.trajectories.x
    from_array = tl.estimate(x, dt=trap.trajectories.dt, basis="poly:1")
    assert from_array.json["input"] == "<numpy array (200, 1001, 2)>" and from_array.input == from_array.json["input"]
    assert tl.estimate(trap, basis="poly:1").input == "<Trajectories (200, 1001, 2)>"
    walk = np.cumsum(np.random.default_rng(9).normal(0.0, 0.1, size=500))
    assert tl.infer(walk, dt=0.01, basis="poly:0").json["input"] == "<numpy array (500,)>"
    path = tmp_path / "x.npy"
    np.save(path, x[:4])
    assert tl.estimate(path, dt=0.01, basis="poly:1").input == str(path)   # a file the user gave stays its path
    # simulate without out: the trajectories and energetics live in the result, not in the files the JSON named
    assert trap.json["output"] == "<in memory: result.trajectories>" and trap.json["energetics"] == "<in memory: result.energetics>"
    for r in (from_array, trap):
        text = json.dumps(r.json)
        assert "thermolearn-" not in text and tempfile.gettempdir() + "/" not in text, text[:300]


def test_paths_starting_with_a_tilde_are_expanded(tmp_path, monkeypatch):
    # '~/trap.npy' reached the CLI as it was (no shell in between): a folder '~' that does not exist
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    sim = tl.simulate("driven-trap-2d", trajectories=4, steps=200, dt=0.01, seed=2, out="~/trap.npy")
    assert (home / "trap.npy").is_file() and (home / "trap.npy.json").is_file() and sim.json["output"] == str(home / "trap.npy")
    est = tl.estimate("~/trap.npy", basis="poly:1", plot="~/sigma.png")
    assert est.input == str(home / "trap.npy") and (home / "sigma.png").stat().st_size > 0
    tl.report([est], "~/r.html")
    assert (home / "r.html").stat().st_size > 1000
    np.save(home / "start.npy", tl.simulate("abp", params={"n": 8, "potential": "none"}, steps=1, dt=0.01).snapshots[-1])
    assert tl.simulate("abp", params={"n": 8, "potential": "none"}, steps=1, dt=0.01, initial="~/start.npy").frames == 2
    assert not (tmp_path / "~").exists()


# ---- typed fields that used to land in extra ----------------------------------------------------------------------

def _schnakenberg(q):
    """EP rate of the generator q with its own stationary law: sum_{i<j} (p_i q_ij - p_j q_ji) ln(p_i q_ij / (p_j q_ji))."""
    w, v = np.linalg.eig(q.T)
    p = np.real(v[:, np.argmin(np.abs(w))])
    p /= p.sum()
    n = len(p)
    return sum((p[i] * q[i, j] - p[j] * q[j, i]) * np.log(p[i] * q[i, j] / (p[j] * q[j, i]))
               for i in range(n) for j in range(i + 1, n) if q[i, j] > 0 and q[j, i] > 0)


def test_the_jump_estimators_estimates_and_generator_are_typed():
    # the driven 3-state ring (W = [[0,2,1],[1,0,2],[2,1,0]]; exact sigma = ln 2), sampled exactly every 0.05
    sim = tl.simulate("mjp", trajectories=20, steps=2000, dt=0.05, seed=3)
    exact = tl.exact("mjp").ep_rate
    assert exact == pytest.approx(np.log(2), rel=1e-12)
    est = tl.estimate(sim, method="jump")
    for key in ("continuous", "sampled_chain", "richardson_lags_1_3", "generator", "deviance", "state_labels", "note"):
        assert key not in est.extra
    assert isinstance(est.continuous, tl.JumpEstimate) and est.continuous.quantity == "continuous_ep_rate"
    # each estimate within 4 of its own standard errors (a false failure 6e-5 of the time each)
    assert abs(est.continuous.ep_rate.z(exact)) < 4, est.continuous
    assert abs(est.richardson_lags_1_3.ep_rate.z(exact)) < 4, est.richardson_lags_1_3
    assert est.sampled_chain.quantity == "sampled_chain_ep_rate"
    assert abs(est.sampled_chain.ep_rate.z(est.exact_sampled_chain_ep_rate)) < 4, est.sampled_chain
    # the best estimate is the continuous one
    assert est.continuous.ep_rate == est.ep_rate
    # the generator as a matrix: a generator's rows sum to 0, and its own Schnakenberg rate is the continuous estimate
    q = est.generator
    assert isinstance(q, np.ndarray) and q.shape == (3, 3)
    np.testing.assert_allclose(q.sum(axis=1), 0, atol=1e-9)
    assert np.all(q[~np.eye(3, dtype=bool)] > 0)
    assert _schnakenberg(q) == pytest.approx(est.continuous.ep_rate.value, rel=1e-9)
    assert est.state_labels == [0, 1, 2]
    assert isinstance(est.deviance, float) and est.deviance >= 0 and est.note is None


def test_a_non_jump_estimate_has_no_jump_fields(trap):
    est = tl.estimate(trap, basis="poly:1")
    assert est.continuous is None and est.sampled_chain is None and est.generator is None and est.deviance is None


def test_the_windows_fit_and_the_simulation_shard_are_typed(trap):
    assert (trap.shard, trap.first_trajectory, trap.total_trajectories) == ("1/1", 0, 200)
    for key in ("shard", "first_trajectory", "total_trajectories"):
        assert key not in trap.extra
    # part 2 of 4 of the same run: trajectories 50..99 of the whole, the same numbers
    part = tl.simulate("driven-trap-2d", trajectories=200, steps=10000, dt=0.001, save_every=10, seed=1, shard="2/4")
    assert (part.shard, part.first_trajectory, part.total_trajectories) == ("2/4", 50, 200)
    np.testing.assert_array_equal(part.trajectories.x, trap.trajectories.x[50:100])
    est = tl.estimate(trap, basis="poly:1", windows=4)
    assert isinstance(est.fit, str) and est.fit and "fit" not in est.extra
    # the stationary trap's sigma(t) in each window: its exact 0.18 within 4 standard errors
    assert np.all(np.abs(est.windows.ep_rate - 0.18) < 4 * est.windows.stderr), (est.windows.ep_rate, est.windows.stderr)
    assert tl.estimate(trap, basis="poly:1").fit is None


# ---- evaluate-protocol --------------------------------------------------------------------------------------------

def test_evaluate_protocol_measures_the_linear_ramp_against_its_exact_work(tmp_path):
    # translate-trap (k = gamma = T = 1, lambda_f = 1, tau = 1): the linear ramp's exact mean work is exp(-1)
    ramp = tl.Protocol(["lambda"], np.array([0.0, 1.0]), np.array([[0.0], [1.0]]))
    m = tl.evaluate_protocol("translate-trap", ramp, trajectories=4000, seed=5)
    assert isinstance(m, tl.ProtocolMeasurement)
    assert (m.task, m.tau, m.protocol_file) == ("translate-trap", 1.0, "<in memory>")
    assert m.references["linear_ramp_work"] == pytest.approx(np.exp(-1), rel=1e-12)
    # extrapolated work against the continuous-time value, the chain at dt against the chain's own exact mean
    assert abs(m.work.z(m.references["linear_ramp_work"])) < 4, m.work
    assert abs(m.work_at_dt.z(m.references["linear_ramp_work_at_dt"])) < 4, m.work_at_dt
    assert m.steps == 500 and m.work_step_bias is not None and m.error.value == 0
    # the baseline is the linear ramp on the same paths: the same measurement
    assert isinstance(m.baseline, tl.ProtocolMeasurement)
    assert m.baseline.work.value == pytest.approx(m.work.value, rel=1e-9)
    # a protocol file written by optimize, read from a path
    opt = tl.optimize("translate-trap", tau=1, iterations=2, trajectories=200, seed=1, out=tmp_path / "p.json")
    from_file = tl.evaluate_protocol("translate-trap", tmp_path / "p.json", trajectories=2000)
    from_result = tl.evaluate_protocol("translate-trap", opt, trajectories=2000)
    assert from_file.protocol_file == str(tmp_path / "p.json") and from_file.seed == 1001
    assert from_result.work.value == pytest.approx(from_file.work.value, rel=1e-9)
    assert abs(from_file.baseline.work.z(from_file.references["linear_ramp_work"])) < 4, from_file.baseline.work


# ---- active-matter estimates --------------------------------------------------------------------------------------

def test_an_active_estimate_is_typed_and_reported(tmp_path):
    # 64 free AOUPs (k = 0) in a harmonic trap A = 1: exact EP rate 2 per particle, 128 in all
    sim = tl.simulate("aoup", params={"n": 64, "k": 0, "A": 1}, steps=4000, dt=0.01, save_every=2, burn_in=1000, seed=2,
                      out=tmp_path / "aoup.npy")
    est = tl.estimate(sim)
    assert est.input == "<ActiveSimulationResult (2001, 64, 4)>"
    # from memory or from the file: the same estimate
    assert tl.estimate(tmp_path / "aoup.npy").ep_rate == est.ep_rate
    assert isinstance(est, tl.ActiveEstimateResult)
    assert est.particles == 64 and est.exact_ep_rate == pytest.approx(128, rel=1e-12)
    assert abs((est.ep_rate_debiased - est.exact_ep_rate) / est.stderr) < 4, (est.ep_rate_debiased, est.stderr)
    assert est.difference_from_exact.value == pytest.approx(est.ep_rate_debiased - est.exact_ep_rate, rel=1e-9)
    # identity 4 in a trap of free particles is exact; the comparison is the estimate named by identity_compared
    assert est.identity_ep_rate.value == pytest.approx(128, rel=1e-9)
    compared = getattr(est, est.identity_compared)
    assert est.difference_from_identity.value == pytest.approx(compared - est.identity_ep_rate.value, rel=1e-9)
    assert est.ep_rate_per_particle.value == pytest.approx(est.ep_rate.value / 64, rel=1e-9)
    assert "stderr" not in est.extra and "identity_ep_rate" not in est.extra
    report = tl.report([est], tmp_path / "active.html")
    assert report["measurements"] >= 3
    html = (tmp_path / "active.html").read_text(encoding="utf-8")
    assert "difference_from_identity" in html

