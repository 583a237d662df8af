using System.Runtime.CompilerServices;
using ThermoLearn.Models;
using ThermoLearn.Randomness;

namespace ThermoLearn.Control;

/// <summary>Draws the initial state of trajectory i from its own stream (x, and v when underdamped).</summary>
internal delegate void InitialStateSampler(ref RandomStream random, Span<double> x, Span<double> v);

/// <summary>A task's failure measure of one trajectory from its first and last positions (0 = success).</summary>
internal delegate double EndpointFunctional(ReadOnlySpan<double> start, ReadOnlySpan<double> end);

/// <summary>Per-trajectory results of one batch, indexed by trajectory so any reduction order is fixed.</summary>
internal sealed class PathSample
{
    public PathSample(int count, int parameters, int dimension)
    {
        Resources.MemoryBudget.Require(8.0 * count * (2 + 2.0 * parameters + 2.0 * dimension),
            $"{count} trajectories x {2 + 2 * parameters + 2 * dimension} numbers each (work, error, score and work gradient of {parameters} parameters, start and end)",
            "use fewer --trajectories (the standard errors fall as 1/sqrt(trajectories): 1e5 to 1e6 is plenty)");
        Count = count;
        Parameters = parameters;
        Dimension = dimension;
        Work = new double[count];
        Error = new double[count];
        Score = new double[count * parameters];
        WorkGradient = new double[count * parameters];
        Start = new double[count * dimension];
        End = new double[count * dimension];
    }

    public int Count { get; }
    public int Parameters { get; }
    public int Dimension { get; }
    public double[] Work { get; }
    public double[] Error { get; }

    /// <summary>d ln P[path | theta] / d theta_p, row-major Count x Parameters.</summary>
    public double[] Score { get; }

    /// <summary>
    /// d W / d theta_p: the explicit derivative at a fixed path (likelihood-ratio kernel) or the total
    /// derivative along the reparameterised path (pathwise kernel).
    /// </summary>
    public double[] WorkGradient { get; }

    public double[] Start { get; }
    public double[] End { get; }
}

/// <summary>
/// Trajectory kernels of the control module: Euler-Maruyama (overdamped) and semi-implicit Euler-Maruyama
/// (underdamped: v first, then x with the new v) paths under a <see cref="DiscreteProtocol"/>, accumulating
/// along each path the work and, on request, the likelihood-ratio score
/// d ln P / d theta = sum_n (mu h dF_n/dtheta)^T (2 D h)^-1 (x_(n+1) - x_n - mu F_n h) (overdamped) or
/// sum_n (h/m dF_n/dtheta)^T (2 gamma T h / m^2)^-1 (v_(n+1) - v_n - (F_n - gamma v_n) h/m) (underdamped),
/// and the explicit derivative of the work. Generic over a struct potential (monomorphic, no allocation per
/// step); trajectory i draws from <see cref="RandomStream.For(ulong, ulong)"/>(seed, i) and writes only
/// its own slot, so results are bit-identical for any thread count.
/// </summary>
internal static class PathKernel
{
    private const int ChunkSize = 32;

    public static PathSample Run<TPotential>(TPotential potential, LangevinDynamics dynamics, DiscreteProtocol protocol,
        InitialStateSampler initial, EndpointFunctional endpoint, ulong seed, int trajectories, bool gradients,
        int maxThreads = -1)
        where TPotential : struct, IDifferentiablePotential
    {
        if (trajectories < 2) throw new InvalidInputException($"control: at least 2 trajectories are needed for a mean with a standard error (got {trajectories}).");
        int d = potential.Dimension;
        if (potential.ControlCount != protocol.Controls)
            throw new InvalidInputException($"control: the protocol has {protocol.Controls} controls but the potential takes {potential.ControlCount}.");
        int parameters = gradients ? protocol.Parameters : 0;
        var sample = new PathSample(trajectories, parameters, d);
        int chunks = (trajectories + ChunkSize - 1) / ChunkSize;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads };
        Parallel.For(0, chunks, options, chunk =>
        {
            var buffers = new Buffers(d, protocol.Controls);
            int end = Math.Min(trajectories, (chunk + 1) * ChunkSize);
            for (int i = chunk * ChunkSize; i < end; i++)
            {
                var random = RandomStream.For(seed, (ulong)i);
                if (dynamics.IsUnderdamped)
                    Trajectory<TPotential, Underdamped>(potential, dynamics, protocol, initial, endpoint, ref random, sample, i, parameters, buffers);
                else
                    Trajectory<TPotential, Overdamped>(potential, dynamics, protocol, initial, endpoint, ref random, sample, i, parameters, buffers);
            }
        });
        return sample;
    }

    /// <summary>Scratch space of one worker, allocated once per chunk of trajectories.</summary>
    private sealed class Buffers(int d, int k)
    {
        public readonly double[] X = new double[d], XNew = new double[d], V = new double[d], Force = new double[d],
            Noise = new double[d], Jacobian = new double[d * k], Derivative = new double[k], DerivativeNew = new double[k],
            ScoreStep = new double[k];
    }

    private interface IScheme
    {
        /// <summary>Advances (x, v) by one step with force f and standard normals xi; returns the score coefficient c
        /// such that the step's score is c * (dF/dtheta)^T xi.</summary>
        static abstract double Step(Span<double> x, Span<double> xNew, Span<double> v, ReadOnlySpan<double> f,
            ReadOnlySpan<double> xi, in Coefficients coefficients);
    }

    private readonly struct Coefficients
    {
        public Coefficients(LangevinDynamics dynamics, double h)
        {
            H = h;
            if (dynamics.Mass is { } m)
            {
                Drift = h / m;
                Damping = 1 - dynamics.Friction * h / m;
                Noise = Math.Sqrt(2 * dynamics.Friction * dynamics.Temperature * h) / m;
                Score = (h / m) / Noise;
            }
            else
            {
                double mu = dynamics.Mobility;
                Drift = mu * h;
                Damping = 1;
                Noise = Math.Sqrt(2 * mu * dynamics.Temperature * h);
                // The drift of a step is mu F h, so its theta-derivative carries h: mu h dF/dtheta.
                Score = mu * h / Noise;
            }
        }

        public readonly double H, Drift, Damping, Noise, Score;
    }

    private readonly struct Overdamped : IScheme
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Step(Span<double> x, Span<double> xNew, Span<double> v, ReadOnlySpan<double> f,
            ReadOnlySpan<double> xi, in Coefficients c)
        {
            for (int j = 0; j < x.Length; j++) xNew[j] = x[j] + c.Drift * f[j] + c.Noise * xi[j];
            return c.Score;
        }
    }

    private readonly struct Underdamped : IScheme
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Step(Span<double> x, Span<double> xNew, Span<double> v, ReadOnlySpan<double> f,
            ReadOnlySpan<double> xi, in Coefficients c)
        {
            for (int j = 0; j < x.Length; j++)
            {
                v[j] = c.Damping * v[j] + c.Drift * f[j] + c.Noise * xi[j];
                xNew[j] = x[j] + c.H * v[j];
            }
            return c.Score;
        }
    }

    private static void Trajectory<TPotential, TScheme>(TPotential potential, LangevinDynamics dynamics, DiscreteProtocol protocol,
        InitialStateSampler initial, EndpointFunctional endpoint, ref RandomStream random, PathSample sample, int i,
        int parameters, Buffers b)
        where TPotential : struct, IDifferentiablePotential
        where TScheme : struct, IScheme
    {
        int d = b.X.Length, k = protocol.Controls, steps = protocol.Steps;
        Span<double> x = b.X, xNew = b.XNew, v = b.V, f = b.Force, xi = b.Noise, jac = b.Jacobian,
            g = b.Derivative, gNew = b.DerivativeNew, scoreStep = b.ScoreStep;
        v.Clear();
        initial(ref random, x, v);
        x.CopyTo(sample.Start.AsSpan(i * d, d));
        var c = new Coefficients(dynamics, protocol.Dt);
        ReadOnlySpan<double> table = protocol.Lambda, sparseValue = protocol.SparseValue;
        ReadOnlySpan<int> rowStart = protocol.RowStart, sparseIndex = protocol.SparseIndex;
        ReadOnlySpan<int> controlOf = protocol.ControlOf;
        Span<double> score = sample.Score.AsSpan(i * parameters, parameters);
        Span<double> workGradient = sample.WorkGradient.AsSpan(i * parameters, parameters);
        bool gradients = parameters > 0;

        ReadOnlySpan<double> lambda = table.Slice(0, k);
        double work = potential.Energy(x, lambda) - potential.Energy(x, protocol.Start);
        if (gradients) potential.ControlDerivative(x, lambda, g);
        for (int n = 0; n < steps; n++)
        {
            ReadOnlySpan<double> lambdaNext = n + 1 < steps ? table.Slice((n + 1) * k, k) : protocol.End;
            potential.Force(x, lambda, f);
            for (int j = 0; j < d; j++) xi[j] = random.NextGaussian();
            double coefficient = TScheme.Step(x, xNew, v, f, xi, c);
            if (gradients)
            {
                potential.ForceControlJacobian(x, lambda, jac);
                for (int q = 0; q < k; q++)
                {
                    double s = 0;
                    for (int j = 0; j < d; j++) s += jac[j * k + q] * xi[j];
                    scoreStep[q] = coefficient * s;
                }
                // Explicit dW/dLambda_n: V(x_n; Lambda_n) enters with +, V(x_(n+1); Lambda_n) with -.
                potential.ControlDerivative(xNew, lambda, gNew);
                for (int q = 0; q < k; q++) g[q] -= gNew[q];
                for (int e = rowStart[n]; e < rowStart[n + 1]; e++)
                {
                    int p = sparseIndex[e], q = controlOf[p];
                    double phi = sparseValue[e];
                    score[p] += phi * scoreStep[q];
                    workGradient[p] += phi * g[q];
                }
            }
            work += potential.Energy(xNew, lambdaNext) - potential.Energy(xNew, lambda);
            xNew.CopyTo(x);
            lambda = lambdaNext;
            if (gradients && n + 1 < steps) potential.ControlDerivative(x, lambda, g);
        }
        sample.Work[i] = work;
        x.CopyTo(sample.End.AsSpan(i * d, d));
        sample.Error[i] = endpoint(sample.Start.AsSpan(i * d, d), x);
    }

    /// <summary>
    /// Pathwise (reparameterisation) reference for overdamped dynamics: the noise is held fixed and the
    /// tangent dx_n/dtheta is propagated, dx_(n+1)/dtheta = dx_n/dtheta + mu h (dF/dx dx_n/dtheta + dF/dLambda dLambda_n/dtheta);
    /// <see cref="PathSample.WorkGradient"/> receives the total dW/dtheta. Valid for smooth functionals only
    /// (the work), not for an indicator such as a task error, which is why the likelihood ratio is the main tool.
    /// </summary>
    public static PathSample RunPathwise<TPotential>(TPotential potential, LangevinDynamics dynamics, DiscreteProtocol protocol,
        InitialStateSampler initial, EndpointFunctional endpoint, ulong seed, int trajectories, int maxThreads = -1)
        where TPotential : struct, IDifferentiablePotential
    {
        if (dynamics.IsUnderdamped) throw new InvalidInputException("control: the pathwise reference gradient is implemented for overdamped dynamics only.");
        if (trajectories < 2) throw new InvalidInputException($"control: at least 2 trajectories are needed (got {trajectories}).");
        int d = potential.Dimension, k = protocol.Controls, P = protocol.Parameters, steps = protocol.Steps;
        var sample = new PathSample(trajectories, P, d);
        var c = new Coefficients(dynamics, protocol.Dt);
        Parallel.For(0, trajectories, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, i =>
        {
            var random = RandomStream.For(seed, (ulong)i);
            double[] x = new double[d], xNew = new double[d], v = new double[d], f = new double[d], fOld = new double[d],
                fx = new double[d * d], fl = new double[d * k], g = new double[k], tangent = new double[P * d], tangentNew = new double[P * d];
            initial(ref random, x, v);
            x.CopyTo(sample.Start, i * d);
            ReadOnlySpan<double> lambda = protocol.Lambda.AsSpan(0, k);
            double work = potential.Energy(x, lambda) - potential.Energy(x, protocol.Start);
            Span<double> total = sample.WorkGradient.AsSpan(i * P, P);
            potential.ControlDerivative(x, lambda, g);
            for (int p = 0; p < P; p++) total[p] += protocol.Basis[p] * g[protocol.ControlOf[p]];
            for (int n = 0; n < steps; n++)
            {
                ReadOnlySpan<double> lambdaNext = n + 1 < steps ? protocol.Lambda.AsSpan((n + 1) * k, k) : protocol.End;
                potential.Force(x, lambda, f);
                potential.ForceJacobian(x, lambda, fx);
                potential.ForceControlJacobian(x, lambda, fl);
                for (int j = 0; j < d; j++) xNew[j] = x[j] + c.Drift * f[j] + c.Noise * random.NextGaussian();
                for (int p = 0; p < P; p++)
                {
                    double phi = protocol.Basis[n * P + p];
                    int q = protocol.ControlOf[p];
                    for (int j = 0; j < d; j++)
                    {
                        double s = fl[j * k + q] * phi;
                        for (int l = 0; l < d; l++) s += fx[j * d + l] * tangent[p * d + l];
                        tangentNew[p * d + j] = tangent[p * d + j] + c.Drift * s;
                    }
                }
                work += potential.Energy(xNew, lambdaNext) - potential.Energy(xNew, lambda);
                // d/dtheta [V(x'; Lambda_(n+1)) - V(x'; Lambda_n)] = (F(x'; Lambda_n) - F(x'; Lambda_(n+1))) . dx'/dtheta + explicit terms.
                potential.Force(xNew, lambdaNext, f);
                potential.Force(xNew, lambda, fOld);
                potential.ControlDerivative(xNew, lambda, g);
                for (int p = 0; p < P; p++)
                {
                    double s = -protocol.Basis[n * P + p] * g[protocol.ControlOf[p]];
                    for (int j = 0; j < d; j++) s += (fOld[j] - f[j]) * tangentNew[p * d + j];
                    total[p] += s;
                }
                if (n + 1 < steps)
                {
                    potential.ControlDerivative(xNew, lambdaNext, g);
                    for (int p = 0; p < P; p++) total[p] += protocol.Basis[(n + 1) * P + p] * g[protocol.ControlOf[p]];
                }
                (x, xNew) = (xNew, x);
                (tangent, tangentNew) = (tangentNew, tangent);
                lambda = lambdaNext;
            }
            sample.Work[i] = work;
            x.CopyTo(sample.End, i * d);
            sample.Error[i] = endpoint(sample.Start.AsSpan(i * d, d), x);
        });
        return sample;
    }
}
