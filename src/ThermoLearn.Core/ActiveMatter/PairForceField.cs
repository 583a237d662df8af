namespace ThermoLearn.ActiveMatter;

/// <summary>
/// Pairwise forces, energies and force divergences of N particles for one pair potential, on a position array
/// x[i * d + a], through a <see cref="CellList"/> (O(N) per call, parallel over cells, the same bits for any thread
/// count). F_i = sum_{j != i} f(r_ij) r_hat_ij with r_ij = x_i - x_j (minimum image in a periodic box).
/// A value: the potential is a struct type argument, so the neighbour loop is monomorphic.
/// </summary>
public readonly struct PairForceField<TPotential> where TPotential : struct, IPairPotential
{
    /// <summary>The skin of the force sweep's neighbour lists, as a fraction of the cutoff.</summary>
    public const double SkinFraction = 0.25;

    public PairForceField(TPotential potential, int particles, int dimension, double? box)
    {
        Potential = potential;
        Cells = new CellList(particles, dimension, potential.Cutoff, box);
        Neighbours = new NeighbourList(particles, dimension, potential.Cutoff, box, SkinFraction * potential.Cutoff);
        Table = PairForceTable.For(potential);
    }

    public TPotential Potential { get; }

    /// <summary>The cell list of the energy and divergence sweeps (rebuilt by every call from the positions it is given).</summary>
    public CellList Cells { get; }

    /// <summary>The neighbour lists of the force sweep (skin <see cref="SkinFraction"/> r_c; rebuilt when a particle has moved by more than half the skin).</summary>
    public NeighbourList Neighbours { get; }

    /// <summary>f(r) / r tabulated against r^2 for the force sweep (the force within about 2e-14 of the potential's formula; <see cref="PairForceTable"/>).</summary>
    public PairForceTable Table { get; }

    /// <summary>
    /// forces[i * d + a] = F_{i,a} = sum_j f(r_ij) (x_i - x_j)_a / r_ij, f(r) / r from <see cref="Table"/>, through
    /// <see cref="Neighbours"/> (the same pairs as a fresh cell list; each particle's sum in its list order).
    /// </summary>
    public void Forces(double[] positions, double[] forces, int maxDegreeOfParallelism = -1)
    {
        if (forces.Length != positions.Length) throw new ArgumentException("forces and positions must have the same length.", nameof(forces));
        Neighbours.Update(positions, maxDegreeOfParallelism);
        Neighbours.Forces(Potential, Table, forces, maxDegreeOfParallelism);
    }

    /// <summary>Total energy sum_{i &lt; j} U(r_ij), and per particle e_i = (1/2) sum_j U(r_ij) when <paramref name="perParticle"/> is given.</summary>
    public double Energy(double[] positions, double[]? perParticle = null, int maxDegreeOfParallelism = -1)
    {
        var energies = perParticle ?? new double[Cells.Particles];
        Cells.Build(positions);
        Cells.Sweep(new EnergyKernel(Potential, energies), maxDegreeOfParallelism);
        double total = 0;
        foreach (double e in energies) total += e;
        return total;
    }

    /// <summary>
    /// Per particle div_{x_i} F_i = sum_j [f'(r_ij) + (d - 1) f(r_ij) / r_ij] into <paramref name="perParticle"/>;
    /// returns the sum over particles (in index order).
    /// </summary>
    public double Divergence(double[] positions, double[] perParticle, int maxDegreeOfParallelism = -1)
    {
        Cells.Build(positions);
        Cells.Sweep(new DivergenceKernel(Potential, perParticle, Cells.Dimension), maxDegreeOfParallelism);
        double total = 0;
        foreach (double v in perParticle) total += v;
        return total;
    }

    private struct EnergyKernel(TPotential potential, double[] energies) : INeighbourKernel
    {
        private double _e;

        public void Begin(int i) => _e = 0;

        public void Add(int i, int j, double r2, double dx, double dy, double dz) => _e += 0.5 * potential.Energy(Math.Sqrt(r2));

        public void End(int i) => energies[i] = _e;
    }

    private struct DivergenceKernel(TPotential potential, double[] divergence, int d) : INeighbourKernel
    {
        private double _s;

        public void Begin(int i) => _s = 0;

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            double r = Math.Sqrt(r2);
            _s += potential.ForceDerivative(r) + (d - 1) * potential.Force(r) / r;
        }

        public void End(int i) => divergence[i] = _s;
    }
}
