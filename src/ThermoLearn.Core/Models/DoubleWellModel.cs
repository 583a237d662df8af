using ThermoLearn.Models.Potentials;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;

namespace ThermoLearn.Models;

/// <summary>
/// Overdamped particle in the 1-D double well V = b (x^2 - 1)^2 + c x (fixed controls), mobility mu,
/// temperature T, started at x0. It relaxes to equilibrium, so no exact EP rate is reported for the
/// transient; it is the workload of the simulator benchmark.
/// </summary>
public sealed class DoubleWellModel : PotentialModel<DoubleWell>
{
    public DoubleWellModel(double b = 1, double c = 0, double mu = 1, double temperature = 1, double x0 = -1)
        : base("double-well", new Dictionary<string, string>
            {
                ["b"] = Format(b), ["c"] = Format(c), ["mu"] = Format(mu), ["T"] = Format(temperature), ["x0"] = Format(x0),
            },
            new DoubleWell(), new ConstantProtocol(RequirePositive("double-well", "b", b), RequireFinite("double-well", "c", c)), mu, temperature)
    {
        Barrier = b;
        Tilt = c;
        Start = RequireFinite(Name, "x0", x0);
    }

    public double Barrier { get; }
    public double Tilt { get; }
    public double Start { get; }

    public override double? Duration => null;

    public override double Energy(ReadOnlySpan<double> x, double t)
    {
        double u = x[0] * x[0] - 1;
        return Barrier * u * u + Tilt * x[0];
    }

    public override void ConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force) =>
        force[0] = DoubleWell.ForceAt(x[0], Barrier, Tilt);

    public override void SampleInitial(ref RandomStream random, Span<double> x) => x[0] = Start;
}
