using ThermoLearn.Statistics;

namespace ThermoLearn.Control;

/// <summary>
/// An estimate of the objective L(theta) = &lt;W&gt; + alpha * error and of its gradient, each a mean over independent
/// trajectories with its standard error (<see cref="MeanEstimate"/>). Units: energies in k_B T (T = 1 unless a
/// task sets it), the error is a probability. Method: "likelihood-ratio" (fluctuation response,
/// Lyu, Ray &amp; Crutchfield 2025), "pathwise" or "measurement" (no gradient). <see cref="Gradient"/> holds dL/dtheta_p,
/// one estimate per parameter (empty for a measurement).
/// </summary>
public sealed record GradientEstimate(
    string Method,
    int Trajectories,
    ulong Seed,
    double Alpha,
    MeanEstimate Objective,
    MeanEstimate Work,
    MeanEstimate Error,
    MeanEstimate[] Gradient)
{
    /// <summary>|grad L|.</summary>
    public double GradientNorm => Math.Sqrt(Gradient.Sum(g => g.Mean * g.Mean));

    /// <summary>sqrt(sum of squared standard errors): the size the norm would have from noise alone.</summary>
    public double GradientNoise => Math.Sqrt(Gradient.Sum(g => g.StandardError * g.StandardError));
}

/// <summary>
/// Reductions of a <see cref="PathSample"/> into estimates. Sums run in trajectory order, so the numbers do
/// not depend on how the paths were spread over threads.
/// </summary>
internal static class GradientEstimators
{
    /// <summary>
    /// Likelihood-ratio (Girsanov, "fluctuation response") estimator of d&lt;A&gt;/dtheta for
    /// A = W + alpha * error (docs/control.md, "Conventions and derivations", Estimator):
    /// g_i = dW_i/dtheta + (A_i - b_i) d ln P_i/dtheta with the leave-one-out baseline
    /// b_i = (sum_(j != i) A_j) / (M - 1), which keeps the estimator unbiased while removing most of the
    /// variance that the mean of A would otherwise bring; the estimate is the mean of g_i and its standard
    /// error the sample standard deviation of g_i over sqrt(M).
    /// </summary>
    public static GradientEstimate LikelihoodRatio(PathSample sample, double alpha, ulong seed)
    {
        int m = sample.Count, parameters = sample.Parameters;
        var objective = Objective(sample, alpha);
        double mean = Mean(objective);
        double scale = m / (m - 1.0);
        var gradient = new MeanEstimate[parameters];
        var column = new double[m];
        for (int p = 0; p < parameters; p++)
        {
            for (int i = 0; i < m; i++)
                column[i] = sample.WorkGradient[i * parameters + p] + scale * (objective[i] - mean) * sample.Score[i * parameters + p];
            gradient[p] = MeanEstimate.Of(column);
        }
        return Assemble("likelihood-ratio", sample, alpha, seed, objective, gradient);
    }

    /// <summary>Mean of the per-path total derivative dW/dtheta from <see cref="PathKernel.RunPathwise{TPotential}"/> (work only).</summary>
    public static GradientEstimate Pathwise(PathSample sample, ulong seed)
    {
        int m = sample.Count, parameters = sample.Parameters;
        var gradient = new MeanEstimate[parameters];
        var column = new double[m];
        for (int p = 0; p < parameters; p++)
        {
            for (int i = 0; i < m; i++) column[i] = sample.WorkGradient[i * parameters + p];
            gradient[p] = MeanEstimate.Of(column);
        }
        return Assemble("pathwise", sample, 0, seed, Objective(sample, 0), gradient);
    }

    /// <summary>Work and error only (no gradient).</summary>
    public static GradientEstimate Measure(PathSample sample, double alpha, ulong seed) =>
        Assemble("measurement", sample, alpha, seed, Objective(sample, alpha), []);

    /// <summary>
    /// Richardson extrapolation to dt -&gt; 0 from two coupled chains (same initial states, same Brownian path): each path's
    /// work and error are 2 A_fine - A_coarse, where the fine chain's step is half the coarse one's. The chains' mean is
    /// A_0 + a h + O(h^2) (weak order 1), so the mean of these is A_0 + O(h^2); the standard error is that of the
    /// per-path values, which the coupling keeps close to a single chain's.
    /// </summary>
    public static GradientEstimate Extrapolate(PathSample fine, PathSample coarse, double alpha, ulong seed)
    {
        if (fine.Count != coarse.Count) throw new ArgumentException("the two chains must hold the same trajectories.");
        var work = new double[fine.Count];
        var error = new double[fine.Count];
        var objective = new double[fine.Count];
        for (int i = 0; i < work.Length; i++)
        {
            work[i] = 2 * fine.Work[i] - coarse.Work[i];
            error[i] = 2 * fine.Error[i] - coarse.Error[i];
            objective[i] = work[i] + alpha * error[i];
        }
        var l = MeanEstimate.Of(objective);
        if (!double.IsFinite(l.Mean))
            throw InvalidInputException.Naming($"control: a trajectory diverged (non-finite work); the protocol drives the ",
                $"system too hard for the time step: use more steps ({InputParameter.ModelParameters} steps=...) or a gentler protocol.");
        return new GradientEstimate("measurement (extrapolated to dt -> 0)", fine.Count, seed, alpha, l, MeanEstimate.Of(work), MeanEstimate.Of(error), []);
    }

    /// <summary>Mean of the per-path W_chain - (2 W_fine - W_coarse): the work's step bias of <paramref name="chain"/> against the extrapolation.</summary>
    public static MeanEstimate StepBias(PathSample chain, PathSample fine, PathSample coarse)
    {
        var bias = new double[chain.Count];
        for (int i = 0; i < bias.Length; i++) bias[i] = chain.Work[i] - (2 * fine.Work[i] - coarse.Work[i]);
        return MeanEstimate.Of(bias);
    }

    private static double[] Objective(PathSample sample, double alpha)
    {
        var a = new double[sample.Count];
        for (int i = 0; i < a.Length; i++) a[i] = sample.Work[i] + alpha * sample.Error[i];
        return a;
    }

    private static GradientEstimate Assemble(string method, PathSample sample, double alpha, ulong seed, double[] objective, MeanEstimate[] gradient)
    {
        var l = MeanEstimate.Of(objective);
        var w = MeanEstimate.Of(sample.Work);
        var e = MeanEstimate.Of(sample.Error);
        if (!double.IsFinite(l.Mean) || gradient.Any(g => !double.IsFinite(g.Mean)))
            throw InvalidInputException.Naming($"control: a trajectory diverged (non-finite work or gradient); the protocol drives the ",
                $"system too hard for the time step: use more steps ({InputParameter.ModelParameters} steps=...) or a gentler protocol.");
        return new GradientEstimate(method, sample.Count, seed, alpha, l, w, e, gradient);
    }

    private static double Mean(ReadOnlySpan<double> values) => MeanEstimate.Of(values).Mean;
}
