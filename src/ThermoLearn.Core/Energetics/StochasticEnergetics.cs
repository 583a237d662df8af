using ThermoLearn.Models;

namespace ThermoLearn.Energetics;

/// <summary>Energetics of one integration step (k_B = 1).</summary>
/// <param name="Work">Work done on the system: dV/dt|_x dt + f_nc o dx.</param>
/// <param name="Heat">Heat released into the bath(s): F o dx (Stratonovich midpoint).</param>
/// <param name="DeltaEnergy">Change of the energy (V overdamped, V + m v^2/2 underdamped).</param>
/// <param name="MediumEntropy">Entropy delivered to the medium: (D^-1 mu F) o dx (Q / T for one bath).</param>
public readonly record struct EnergeticsStep(double Work, double Heat, double DeltaEnergy, double MediumEntropy);

/// <summary>
/// Sekimoto's stochastic energetics along a discretised trajectory ("Stochastic Energetics", Springer 2010;
/// Seifert, Rep. Prog. Phys. 75, 126001 (2012)). For a step x0 -> x1 over [t0, t1] the control changes
/// first at fixed x (work V(x0,t1) - V(x0,t0)) and the particle then moves in the potential at t1: the heat
/// released is the Stratonovich integral of the force along the straight step, which for the conservative part is
/// exactly V(x0,t1) - V(x1,t1), plus f_nc(x_mid, t1) . dx. The first law Delta V = W - Q then holds per step to
/// rounding on every trajectory. Over a path the energy change telescopes, Delta V = V(x_N, t_N) - V(x_0, t_0), and so
/// does the heat, Q = W - Delta V: the simulator sums only the work (and, for several baths, the medium entropy) step by
/// step (<see cref="OverdampedModel.ControlWork"/>, one energy evaluation for a potential linear in its controls, none for
/// a static potential), the same numbers in the same order as the lane engine (OverdampedLaneKernel).
/// </summary>
public static class StochasticEnergetics
{
    /// <summary>
    /// The energetics of the overdamped step x0 (at t0) -> x1 (at t1). Medium entropy: Q / T for one bath
    /// (<see cref="OverdampedModel.BathTemperature"/>; the simulator divides the summed heat once), else (D^-1 mu F)(x_mid) . dx.
    /// </summary>
    public static EnergeticsStep OverdampedStep(OverdampedModel model, ReadOnlySpan<double> x0, ReadOnlySpan<double> x1, double t0, double t1)
    {
        double v00 = model.Energy(x0, t0);
        double v01 = t1 == t0 ? v00 : model.Energy(x0, t1);
        double v11 = model.Energy(x1, t1);
        double work = model.ControlWork(x0, t0, t1), heat = v01 - v11;
        double entropy = AddMidpointTerms(model, x0, x1, t1, ref work, ref heat);
        if (model.BathTemperature is { } temperature) entropy = heat / temperature;
        return new EnergeticsStep(work, heat, v11 - v00, entropy);
    }

    /// <summary>
    /// What a path sums step by step (the heat and the energy change telescope): the step's work, as in
    /// <see cref="OverdampedStep"/>, and for several baths its medium entropy (zero for one bath, whose Q / T the caller
    /// takes from the telescoped heat). No energy is evaluated beyond <see cref="OverdampedModel.ControlWork"/>.
    /// </summary>
    public static (double Work, double MediumEntropy) OverdampedStepWork(OverdampedModel model, ReadOnlySpan<double> x0, ReadOnlySpan<double> x1,
        double t0, double t1)
    {
        double work = model.ControlWork(x0, t0, t1), unusedHeat = 0;
        double entropy = AddMidpointTerms(model, x0, x1, t1, ref work, ref unusedHeat);
        return (work, entropy);
    }

    /// <summary>Adds f_nc(x_mid, t1) . dx to the work and the heat; returns (D^-1 mu F)(x_mid) . dx when several baths act (else 0).</summary>
    private static double AddMidpointTerms(OverdampedModel model, ReadOnlySpan<double> x0, ReadOnlySpan<double> x1, double t1,
        ref double work, ref double heat)
    {
        int d = model.Dimension;
        double entropy = 0;
        bool nonConservative = model.HasNonConservativeForce, oneBath = model.BathTemperature is not null;
        if (!nonConservative && oneBath) return entropy;
        Span<double> buffer = d <= 32 ? stackalloc double[3 * d] : new double[3 * d];
        var mid = buffer[..d];
        var force = buffer.Slice(d, d);
        var entropyForce = buffer.Slice(2 * d, d);
        for (int i = 0; i < d; i++) mid[i] = 0.5 * (x0[i] + x1[i]);
        if (nonConservative)
        {
            force.Clear();
            model.AddNonConservativeForce(mid, t1, force);
            for (int i = 0; i < d; i++)
            {
                double dx = x1[i] - x0[i];
                work += force[i] * dx;
                heat += force[i] * dx;
            }
        }
        if (!oneBath)
        {
            model.EntropyForce(mid, t1, entropyForce);
            for (int i = 0; i < d; i++) entropy += entropyForce[i] * (x1[i] - x0[i]);
        }
        return entropy;
    }

    /// <summary>Kinetic plus potential energy of an underdamped state.</summary>
    public static double UnderdampedEnergy(UnderdampedModel model, ReadOnlySpan<double> x, ReadOnlySpan<double> v, double t)
    {
        double kinetic = 0;
        foreach (double u in v) kinetic += u * u;
        return model.Energy(x, t) + 0.5 * model.Mass * kinetic;
    }

    /// <summary>Work of the underdamped step x0 -> x1 (control change at x0, then f_nc(x_mid, t1) . dx).</summary>
    public static double UnderdampedWork(UnderdampedModel model, ReadOnlySpan<double> x0, ReadOnlySpan<double> x1, double t0, double t1)
    {
        int d = model.Dimension;
        Span<double> buffer = d <= 32 ? stackalloc double[2 * d] : new double[2 * d];
        var mid = buffer[..d];
        var f = buffer.Slice(d, d);
        for (int i = 0; i < d; i++) mid[i] = 0.5 * (x0[i] + x1[i]);
        f.Clear();
        model.AddNonConservativeForce(mid, t1, f);
        double work = t1 == t0 ? 0 : model.Energy(x0, t1) - model.Energy(x0, t0);
        for (int i = 0; i < d; i++) work += f[i] * (x1[i] - x0[i]);
        return work;
    }
}
