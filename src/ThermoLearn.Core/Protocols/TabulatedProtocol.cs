namespace ThermoLearn.Protocols;

/// <summary>
/// A protocol given by samples (t_m, lambda_m), linear in between; a repeated time is a jump
/// (lambda just before and just after). This is the saved form of an optimised protocol: the samples
/// start at t = 0 with lambda_i and end at t = tau with lambda_f.
/// </summary>
public sealed class TabulatedProtocol : IProtocol
{
    private readonly double[] _times;
    private readonly double[][] _values;

    /// <param name="times">Non-decreasing, first 0, last tau &gt; 0; at most two equal times in a row.</param>
    /// <param name="values">One control vector per time, all of the same length.</param>
    /// <param name="source">Where the samples came from, for error messages.</param>
    public TabulatedProtocol(IReadOnlyList<double> times, IReadOnlyList<double[]> values, string source = "protocol")
    {
        if (times.Count < 2 || times.Count != values.Count)
            throw new InvalidInputException($"{source}: needs at least 2 samples with one lambda per time (got {times.Count} times and {values.Count} lambda rows).");
        int k = values[0].Length;
        if (k == 0) throw new InvalidInputException($"{source}: lambda rows must not be empty.");
        for (int m = 0; m < times.Count; m++)
        {
            if (!double.IsFinite(times[m])) throw new InvalidInputException($"{source}: t[{m}] is not a finite number.");
            if (values[m].Length != k)
                throw new InvalidInputException($"{source}: lambda[{m}] has {values[m].Length} controls but lambda[0] has {k}.");
            if (values[m].Any(v => !double.IsFinite(v))) throw new InvalidInputException($"{source}: lambda[{m}] contains a non-finite value.");
            if (m > 0 && times[m] < times[m - 1])
                throw new InvalidInputException($"{source}: times must not decrease (t[{m - 1}] = {times[m - 1]}, t[{m}] = {times[m]}).");
            if (m > 1 && times[m] == times[m - 1] && times[m - 1] == times[m - 2])
                throw new InvalidInputException($"{source}: time {times[m]} appears more than twice (a jump has one value before and one after).");
        }
        if (times[0] != 0) throw new InvalidInputException($"{source}: the first sample must be at t = 0 (got {times[0]}).");
        if (!(times[^1] > 0)) throw new InvalidInputException($"{source}: the last sample must be at t = tau > 0 (got {times[^1]}).");
        _times = times.ToArray();
        _values = values.Select(v => (double[])v.Clone()).ToArray();
    }

    public int ControlCount => _values[0].Length;
    public double Duration => _times[^1];
    public IReadOnlyList<double> Times => _times;
    public IReadOnlyList<double[]> Values => _values;

    public void Evaluate(double t, Span<double> lambda)
    {
        if (t <= 0) { _values[0].CopyTo(lambda); return; }
        if (t >= Duration) { _values[^1].CopyTo(lambda); return; }
        // The first sample with time > t; the segment [hi - 1, hi] then has a positive length.
        int hi = Array.FindIndex(_times, s => s > t);
        int lo = hi - 1;
        double w = (t - _times[lo]) / (_times[hi] - _times[lo]);
        for (int c = 0; c < lambda.Length; c++) lambda[c] = _values[lo][c] + w * (_values[hi][c] - _values[lo][c]);
    }

    /// <summary>Samples any protocol at <paramref name="interiorPoints"/> times of (0, tau) plus both endpoints with their jumps.</summary>
    public static TabulatedProtocol Sample(IProtocol protocol, int interiorPoints)
    {
        double tau = protocol.Duration;
        int k = protocol.ControlCount;
        var times = new List<double>();
        var values = new List<double[]>();
        void Add(double time, double at)
        {
            var v = new double[k];
            protocol.Evaluate(at, v);
            times.Add(time);
            values.Add(v);
        }
        // The interior limits at 0+ and tau- are evaluated a hair inside and recorded at 0 and tau.
        double eps = 1e-12 * tau;
        Add(0, 0);
        Add(0, eps);
        for (int m = 1; m < interiorPoints - 1; m++) Add(tau * m / (interiorPoints - 1), tau * m / (interiorPoints - 1));
        Add(tau, tau - eps);
        Add(tau, tau);
        return new TabulatedProtocol(times, values);
    }
}
