using ThermoLearn.Statistics;

namespace ThermoLearn.Energetics;

/// <summary>
/// Per-trajectory totals over a simulation (k_B = 1): work W, heat to the bath Q, energy change Delta E
/// (= W - Q, the first law), medium entropy Delta s_m, and, when the model's density p(x,t) is known,
/// system entropy Delta s_sys = -ln p(x_end, t_end) + ln p(x_0, 0) and total Delta s_tot = Delta s_m + Delta s_sys.
/// Index i is trajectory i of the ensemble it belongs to.
/// </summary>
public sealed class TrajectoryEnergetics
{
    public TrajectoryEnergetics(double[] work, double[] heat, double[] deltaEnergy, double[] mediumEntropy, double[]? systemEntropy)
    {
        int n = work.Length;
        if (heat.Length != n || deltaEnergy.Length != n || mediumEntropy.Length != n || (systemEntropy is not null && systemEntropy.Length != n))
            throw new InvalidInputException("trajectory energetics: every column needs one value per trajectory.");
        Work = work;
        Heat = heat;
        DeltaEnergy = deltaEnergy;
        MediumEntropy = mediumEntropy;
        SystemEntropy = systemEntropy;
        if (systemEntropy is not null)
        {
            TotalEntropy = new double[n];
            for (int i = 0; i < n; i++) TotalEntropy[i] = mediumEntropy[i] + systemEntropy[i];
        }
    }

    public int Count => Work.Length;
    public double[] Work { get; }
    public double[] Heat { get; }
    public double[] DeltaEnergy { get; }
    public double[] MediumEntropy { get; }
    public double[]? SystemEntropy { get; }
    public double[]? TotalEntropy { get; }

    public MeanEstimate MeanWork => MeanEstimate.Of(Work);
    public MeanEstimate MeanHeat => MeanEstimate.Of(Heat);
    public MeanEstimate MeanMediumEntropy => MeanEstimate.Of(MediumEntropy);
    public MeanEstimate? MeanTotalEntropy => TotalEntropy is null ? null : MeanEstimate.Of(TotalEntropy);
}
