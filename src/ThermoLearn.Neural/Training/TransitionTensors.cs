using ThermoLearn.Neural.Runtime;
using ThermoLearn.Trajectories;
using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// A minibatch of transitions x_i -> x_{i+lag} as float32 tensors: start <see cref="X0"/> [B, d],
/// end <see cref="X1"/> [B, d], increment <see cref="Dx"/> [B, d] (taken in float64 before the cast,
/// so small increments keep their digits), the midpoint time <see cref="TMid"/> [B, 1] and the time
/// <see cref="Step"/> = lag dt that one transition spans.
/// </summary>
internal readonly record struct TransitionBatch(Tensor X0, Tensor X1, Tensor Dx, Tensor TMid, double Step)
{
    // A scalar that lives as long as the process (see StableScalars).

    /// <summary>Stratonovich midpoint (x_i + x_{i+1}) / 2.</summary>
    public Tensor Mid => X0.Plus(X1).mul_(StableScalars.Half);
}

/// <summary>
/// The transitions of a set of units as float32 tensors, plus the unit and time of each
/// transition (for held-out statistics per unit and per time window).
/// </summary>
internal sealed class TransitionTensors : IDisposable
{
    private TransitionTensors(Tensor x0, Tensor x1, Tensor dx, Tensor tMid, int[] unit, double[] time, int dimension, double step)
    {
        Step = step;
        X0 = x0;
        X1 = x1;
        Dx = dx;
        TMid = tMid;
        Unit = unit;
        Time = time;
        Dimension = dimension;
    }

    public Tensor X0 { get; }
    public Tensor X1 { get; }
    public Tensor Dx { get; }
    public Tensor TMid { get; }

    /// <summary>Index (into the unit list given to <see cref="Build"/>) of each transition's unit.</summary>
    public int[] Unit { get; }

    /// <summary>Midpoint time t_i + dt/2 of each transition.</summary>
    public double[] Time { get; }

    public int Dimension { get; }

    /// <summary>Time lag dt spanned by each transition.</summary>
    public double Step { get; }

    public long Count => Unit.LongLength;

    /// <summary>
    /// The transitions x_f -> x_{f+lag} of the units (a unit's transitions f in [Start, End) cover frames Start..End,
    /// so at lag L it gives the Count - L + 1 pairs that stay inside it).
    /// </summary>
    public static TransitionTensors Build(TrajectoryEnsemble data, IReadOnlyList<TransitionUnit> units, int lag = 1)
    {
        if (lag < 1) throw new ArgumentOutOfRangeException(nameof(lag));
        int d = data.Dimension;
        long n = 0;
        foreach (var u in units) n += Math.Max(0, u.Count - lag + 1);
        if (n * d > int.MaxValue)
            throw new InvalidInputException($"{n} transitions of dimension {d} exceed what one training tensor holds; subsample the data.");
        var x0 = new float[n * d];
        var x1 = new float[n * d];
        var dx = new float[n * d];
        var t = new float[n];
        var unit = new int[n];
        var time = new double[n];
        long row = 0;
        for (int ui = 0; ui < units.Count; ui++)
        {
            var u = units[ui];
            ReadOnlySpan<double> path = data.Trajectory(u.Trajectory);
            for (int f = u.Start; f + lag <= u.End; f++, row++)
            {
                for (int j = 0; j < d; j++)
                {
                    double a = path[f * d + j], b = path[(f + lag) * d + j];
                    x0[row * d + j] = (float)a;
                    x1[row * d + j] = (float)b;
                    dx[row * d + j] = (float)(b - a);
                }
                double tm = data.StartTime + (f + 0.5 * lag) * data.Dt;
                t[row] = (float)tm;
                time[row] = tm;
                unit[row] = ui;
            }
        }
        long[] shape = [n, d];
        return new TransitionTensors(
            tensor(x0, shape).DetachFromDisposeScope(), tensor(x1, shape).DetachFromDisposeScope(),
            tensor(dx, shape).DetachFromDisposeScope(), tensor(t, [n, 1]).DetachFromDisposeScope(), unit, time, d, lag * data.Dt);
    }

    /// <summary>The float32 tensors of a block of rows, each value cast as <see cref="Build"/> casts it (the increment in float64 first).</summary>
    public static TransitionTensors From(TransitionRows rows)
    {
        int d = rows.Dimension, n = rows.Length;
        var x0 = new float[(long)n * d];
        var x1 = new float[(long)n * d];
        var dx = new float[(long)n * d];
        var t = new float[n];
        for (long k = 0; k < (long)n * d; k++)
        {
            double a = rows.Start[k], b = rows.End[k];
            x0[k] = (float)a;
            x1[k] = (float)b;
            dx[k] = (float)(b - a);
        }
        for (int i = 0; i < n; i++) t[i] = (float)rows.Time[i];
        long[] shape = [n, d];
        return new TransitionTensors(
            tensor(x0, shape).DetachFromDisposeScope(), tensor(x1, shape).DetachFromDisposeScope(),
            tensor(dx, shape).DetachFromDisposeScope(), tensor(t, [n, 1]).DetachFromDisposeScope(),
            rows.Unit.AsSpan(0, n).ToArray(), rows.Time.AsSpan(0, n).ToArray(), d, rows.Step);
    }

    /// <summary>The rows <paramref name="index"/> (int64 [B]) as a batch; tensors belong to the caller's dispose scope.</summary>
    public TransitionBatch Select(Tensor index) =>
        new(X0.index_select(0, index), X1.index_select(0, index), Dx.index_select(0, index), TMid.index_select(0, index), Step);

    /// <summary>Rows [start, start + length) as a batch (views).</summary>
    public TransitionBatch Slice(long start, long length) =>
        new(X0.narrow(0, start, length), X1.narrow(0, start, length), Dx.narrow(0, start, length), TMid.narrow(0, start, length), Step);

    public void Dispose()
    {
        X0.Dispose();
        X1.Dispose();
        Dx.Dispose();
        TMid.Dispose();
    }
}
