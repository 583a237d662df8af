namespace ThermoLearn.Protocols;

/// <summary>
/// A protocol as the kernel sees it: N steps of length h = tau/N with lambda held at
/// Lambda_n = lambda(t_n + h/2) during step n, Lambda_-1 = lambda_i and Lambda_N = lambda_f.
/// The work is the exact work of this piecewise-constant protocol,
/// W = sum_(n=0..N) [V(x_n; Lambda_n) - V(x_n; Lambda_(n-1))], which tends to
/// int (dlambda/dt) . dV/dlambda dt plus the two end-jump terms V(x; lambda+) - V(x; lambda-) as h -> 0.
/// For a parameterised protocol the table also holds phi_p(t_n + h/2) = d Lambda_(n, c(p)) / d theta_p.
/// </summary>
internal sealed class DiscreteProtocol
{
    private DiscreteProtocol(int steps, double duration, int controls, int parameters)
    {
        Steps = steps;
        Dt = duration / steps;
        Controls = controls;
        Parameters = parameters;
        Lambda = new double[steps * controls];
        Basis = new double[steps * parameters];
        ControlOf = new int[parameters];
        Start = new double[controls];
        End = new double[controls];
    }

    public int Steps { get; }
    public double Dt { get; }
    public int Controls { get; }
    public int Parameters { get; }
    public double[] Lambda { get; }
    public double[] Basis { get; }
    public int[] ControlOf { get; }
    public double[] Start { get; }

    /// <summary>
    /// The non-zero entries of <see cref="Basis"/> by step (compressed rows): step n's are
    /// <see cref="SparseIndex"/>/<see cref="SparseValue"/>[RowStart[n] .. RowStart[n + 1]). Hat functions leave two
    /// per control, so the kernel's per-step gradient work does not grow with the number of knots.
    /// </summary>
    public int[] RowStart { get; private set; } = [0];
    public int[] SparseIndex { get; private set; } = [];
    public double[] SparseValue { get; private set; } = [];

    /// <summary><see cref="ControlOf"/> of each <see cref="SparseIndex"/> entry (one look-up fewer per entry in the kernel).</summary>
    public int[] SparseControl { get; private set; } = [];

    /// <summary>
    /// One past the last step of the run of steps around step n whose rows name the same parameters in the same order
    /// (a knot interval for hat functions): over such a run the gradient kernel keeps each parameter's sums in registers.
    /// </summary>
    public int[] PatternEnd { get; private set; } = [];
    public double[] End { get; }

    public static DiscreteProtocol From(IProtocol protocol, int steps)
    {
        var table = new DiscreteProtocol(steps, protocol.Duration, protocol.ControlCount, 0);
        table.Fill(protocol);
        return table;
    }

    public static DiscreteProtocol From(ParameterisedProtocol protocol, int steps)
    {
        var family = protocol.Family;
        var table = new DiscreteProtocol(steps, protocol.Duration, protocol.ControlCount, family.ParameterCount);
        table.Fill(protocol);
        int m = family.ParametersPerControl;
        for (int p = 0; p < table.Parameters; p++) table.ControlOf[p] = family.ControlOf(p);
        for (int n = 0; n < steps; n++)
        {
            double t = (n + 0.5) * table.Dt;
            for (int p = 0; p < table.Parameters; p++) table.Basis[n * table.Parameters + p] = family.Basis(p % m, t);
        }
        table.Compress();
        return table;
    }

    private void Compress()
    {
        var rowStart = new int[Steps + 1];
        var index = new List<int>();
        var value = new List<double>();
        for (int n = 0; n < Steps; n++)
        {
            for (int p = 0; p < Parameters; p++)
            {
                double phi = Basis[n * Parameters + p];
                if (phi == 0) continue;
                index.Add(p);
                value.Add(phi);
            }
            rowStart[n + 1] = index.Count;
        }
        RowStart = rowStart;
        SparseIndex = [.. index];
        SparseValue = [.. value];
        SparseControl = [.. index.Select(p => ControlOf[p])];
        var patternEnd = new int[Steps];
        for (int n = Steps - 1, end = Steps; n >= 0; n--)
        {
            if (n + 1 < Steps && !SameParameters(n, n + 1)) end = n + 1;
            patternEnd[n] = end;
        }
        PatternEnd = patternEnd;
    }

    private bool SameParameters(int n, int m) =>
        SparseIndex.AsSpan(RowStart[n], RowStart[n + 1] - RowStart[n]).SequenceEqual(SparseIndex.AsSpan(RowStart[m], RowStart[m + 1] - RowStart[m]));

    private void Fill(IProtocol protocol)
    {
        if (Steps < 1) throw new InvalidInputException($"protocol discretisation: the number of steps must be >= 1 (got {Steps}).");
        protocol.Evaluate(0, Start);
        protocol.Evaluate(protocol.Duration, End);
        for (int n = 0; n < Steps; n++) protocol.Evaluate((n + 0.5) * Dt, Lambda.AsSpan(n * Controls, Controls));
    }
}
