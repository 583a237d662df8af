using ThermoLearn.Neural.Runtime;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Tests.Runtime;

/// <summary>
/// Proves that the native libtorch loads on this machine (see docs/torchsharp.md) and computes:
/// a matrix product against hand-computed values and one Adam step against its closed form.
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
        var adam = optim.Adam(new[] { w }, lr: 0.1);
        Tensor loss = (w - target).pow(2).sum();
        loss.backward();
        adam.step();
        double[] updated = w.detach().data<double>().ToArray();
        // gradients 2(w - target) = (-4, -2, 1): signs (-, -, +), so w moves by (+0.1, +0.1, -0.1)
        Assert.Equal(1.1, updated[0], 6);
        Assert.Equal(-1.9, updated[1], 6);
        Assert.Equal(0.4, updated[2], 6);
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
