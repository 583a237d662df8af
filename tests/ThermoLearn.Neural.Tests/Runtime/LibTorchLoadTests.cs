using ThermoLearn.Neural.Runtime;
using ThermoLearn.Neural.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Tests.Runtime;

/// <summary>
/// Proves that the native libtorch loads on this machine (see docs/torchsharp.md) and computes:
/// a matrix product against hand-computed values, and the one optimiser path of both trainers (<see cref="AdamStep"/>)
/// against its closed form, against TorchSharp's Adam, and under parallel load with the garbage collector running.
/// </summary>
public class LibTorchLoadTests
{
    [Fact]
    public void MatrixProductMatchesHandComputedValues()
    {
        TorchRuntime.Initialise();
        using var scope = NewDisposeScope();
        Tensor a = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 });
        Tensor b = tensor(new float[] { 5, 6, 7, 8 }, new long[] { 2, 2 });
        float[] c = a.matmul(b).data<float>().ToArray();
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c);
    }

    [Fact]
    public void OneAdamStepMovesEachParameterByTheLearningRate()
    {
        // On the first step Adam's bias-corrected update is lr * g / (|g| + eps) = lr * sign(g)
        // (up to eps), whatever the gradient's size: a closed form for one real optimiser step.
        TorchRuntime.Initialise();
        using var scope = NewDisposeScope();
        // A Parameter takes over the tensor's native handle, so only w is used from here on.
        var w = new TorchSharp.Modules.Parameter(tensor(new double[] { 1.0, -2.0, 0.5 }, dtype: ScalarType.Float64));
        Tensor target = tensor(new double[] { 3.0, -1.0, 0.0 }, dtype: ScalarType.Float64);
        using var adam = new AdamStep([w], 0.1, 0.1, 1);
        Tensor loss = w.Minus(target).Squared().sum();
        loss.backward();
        adam.Step();
        double[] updated = w.detach().data<double>().ToArray();
        // gradients 2(w - target) = (-4, -2, 1): signs (-, -, +), so w moves by (+0.1, +0.1, -0.1)
        Assert.Equal(1.1, updated[0], 6);
        Assert.Equal(-1.9, updated[1], 6);
        Assert.Equal(0.4, updated[2], 6);
    }

    [Fact]
    public void AdamStepWarmsUpLinearlyThenDecaysAlongACosine()
    {
        // W = 4 warm-up steps of a 12-step schedule from 0.1 to 0.01: rates 0.1 k / 4 (k = 1..4), then
        // 0.01 + 0.09 (1 + cos(pi j / 8)) / 2 for j = 0..8, and 0.01 after the schedule ends.
        TorchRuntime.Initialise();
        using var scope = NewDisposeScope();
        var w = new TorchSharp.Modules.Parameter(tensor(new double[] { 1.0 }, dtype: ScalarType.Float64));
        using var adam = new AdamStep([w], 0.1, 0.01, 12, warmupSteps: 4);
        var expected = new List<double> { 0.025, 0.05, 0.075, 0.1 };
        for (int j = 0; j <= 8; j++) expected.Add(0.01 + 0.09 * (1 + Math.Cos(Math.PI * j / 8)) / 2);
        expected.Add(0.01);
        foreach (double rate in expected)
        {
            Assert.Equal(rate, adam.CurrentRate, 12);
            adam.Step();
        }
        Assert.Throws<InvalidInputException>(() => new AdamStep([w], 0.1, 0.01, 12, warmupSteps: 12));
    }

    [Fact]
    public void AdamStepAtAConstantRateFollowsTorchSharpsAdam()
    {
        // The transformer trainer's Adam (constant rate) was TorchSharp's optim.Adam: the same update to rounding,
        // checked over 20 steps of a quadratic in float64 (relative 1e-12; the two differ only in the order of
        // the division by sqrt(1 - b2^t)).
        TorchRuntime.Initialise();
        using var scope = NewDisposeScope();
        double[] start = [1.0, -2.0, 0.5, 4.0];
        Tensor target = tensor(new double[] { 3.0, -1.0, 0.0, 4.5 }, dtype: ScalarType.Float64);
        var ours = new TorchSharp.Modules.Parameter(tensor(start, dtype: ScalarType.Float64));
        var theirs = new TorchSharp.Modules.Parameter(tensor(start, dtype: ScalarType.Float64));
        using var adam = new AdamStep([ours], 0.05, 0.05, 1);
        var reference = optim.Adam([theirs], lr: 0.05);
        for (int step = 0; step < 20; step++)
        {
            ours.grad?.zero_();
            theirs.grad?.zero_();
            ours.Minus(target).Squared().sum().backward();
            theirs.Minus(target).Squared().sum().backward();
            adam.Step();
            reference.step();
        }
        double[] a = ours.detach().data<double>().ToArray(), b = theirs.detach().data<double>().ToArray();
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 1e-12 * Math.Abs(b[i]) + 1e-15);
    }

    /// <summary>
    /// The crash AdamStep exists for: a native scalar made implicitly for a libtorch call could be finalised by the
    /// garbage collector while the call still read it ("Expected false to be true ... toDouble" from Adam.step under
    /// load). Four threads train small networks for 1500 steps each while a fifth thread forces collections and
    /// finalisers without pause; every run must finish with finite weights equal to the same run done alone (the
    /// update is deterministic, so any corrupted scalar shows as a difference, a NaN or a native error).
    /// </summary>
    [Fact]
    public void AdamStepSurvivesParallelTrainingUnderGarbageCollection()
    {
        TorchRuntime.Initialise();
        const int threads = 4, steps = 1500;
        float[] Train(int seed)
        {
            using var scope = NewDisposeScope();
            var generator = new Random(seed);
            float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(generator.NextDouble() - 0.5)).ToArray();
            var w1 = new TorchSharp.Modules.Parameter(tensor(Values(4 * 16), [4, 16]));
            var w2 = new TorchSharp.Modules.Parameter(tensor(Values(16), [16, 1]));
            Tensor x = tensor(Values(64 * 4), [64, 4]);
            Tensor y = tensor(Values(64), [64, 1]);
            using var adam = new AdamStep([w1, w2], 1e-2, 1e-4, steps);
            for (int step = 0; step < steps; step++)
            {
                using var inner = NewDisposeScope();
                w1.grad?.zero_();
                w2.grad?.zero_();
                x.matmul(w1).tanh().matmul(w2).Minus(y).Squared().mean().backward();
                adam.Step();
            }
            return [.. w1.detach().data<float>().ToArray(), .. w2.detach().data<float>().ToArray()];
        }

        var alone = Enumerable.Range(0, threads).Select(Train).ToArray();
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        var loaded = new float[threads][];
        try
        {
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, k => loaded[k] = Train(k));
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        for (int k = 0; k < threads; k++)
        {
            Assert.All(loaded[k], v => Assert.True(float.IsFinite(v)));
            Assert.Equal(alone[k], loaded[k]);
        }
    }

    /// <summary>
    /// When libtorch is missing, the CLI prints TorchRuntime.LoadFailureMessage instead of a stack trace: it names the
    /// platform and the missing dependency (the loader's message of a tool whose libtorch_cpu.so was removed), and it
    /// leaves other errors alone.
    /// </summary>
    [Fact]
    public void LoadFailureMessageNamesThePlatformAndTheMissingLibrary()
    {
        var loader = new DllNotFoundException("Unable to load shared library 'LibTorchSharp' or one of its dependencies. In order to help diagnose loading problems, consider using a tool like strace.\n"
            + "/opt/tool/runtimes/linux-x64/native/LibTorchSharp.so: cannot open shared object file: No such file or directory\n"
            + "libtorch_cpu.so: cannot open shared object file: No such file or directory\n");
        string? message = TorchRuntime.LoadFailureMessage(new TypeInitializationException("TorchSharp.torch", loader));
        Assert.NotNull(message);
        Assert.Contains(System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, message);
        Assert.Contains("libtorch_cpu.so: cannot open shared object file", message);
        Assert.DoesNotContain("/opt/tool", message);
        Assert.Null(TorchRuntime.LoadFailureMessage(new InvalidOperationException("libtorch tensor shape mismatch")));
        Assert.Null(TorchRuntime.LoadFailureMessage(new DllNotFoundException("Unable to load shared library 'libSkiaSharp'")));
    }
}
