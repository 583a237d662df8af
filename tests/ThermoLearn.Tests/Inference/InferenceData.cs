using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Models;
using ThermoLearn.Simulation;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Tests.Inference;

/// <summary>Simulated data for the estimator tests: the catalogue's models through the real simulator.</summary>
internal static class InferenceData
{
    /// <summary>
    /// Frames at spacing <paramref name="frameDt"/> integrated with <paramref name="substeps"/> Heun steps per frame
    /// (weak order 2: the data's own discretisation error stays far below the estimators' errors).
    /// </summary>
    public static SimulationResult Run(StochasticModel model, double frameDt, int substeps, int trajectories, int frames, ulong seed,
        bool energetics = false)
    {
        return Simulator.Run(model, new SimulationOptions
        {
            Trajectories = trajectories,
            Steps = (frames - 1) * substeps,
            Dt = frameDt / substeps,
            SaveEvery = substeps,
            Seed = seed,
            Scheme = model is UnderdampedModel ? null : "heun",
            ComputeEnergetics = energetics,
        });
    }

    public static LinearModel DrivenTrap() => LinearModel.DrivenTrap2D(1, 0.3, 1, 0.5);

    public static LinearModel BeadSpring(int n) => LinearModel.BeadSpring(n, 1, 1, 10, 1);

    public static Matrix<double> M(double[,] a) => Matrix<double>.Build.DenseOfArray(a);

    public static double[] RowMajor(double[,] a) => M(a).ToRowMajorArray();

    /// <summary>The first <paramref name="count"/> coordinates of every frame (e.g. positions of an underdamped state (x, v)).</summary>
    public static TrajectoryEnsemble Coordinates(TrajectoryEnsemble e, int count)
    {
        var data = new double[(long)e.Trajectories * e.Frames * count];
        for (long i = 0; i < (long)e.Trajectories * e.Frames; i++)
            for (int j = 0; j < count; j++) data[i * count + j] = e.Data[i * e.Dimension + j];
        return new TrajectoryEnsemble(e.Trajectories, e.Frames, count, e.Dt, data, e.Metadata, e.StartTime);
    }
}
