using ThermoLearn.Neural.Runtime;
using ThermoLearn.Neural.Transformers;
using ThermoLearn.Processes;
using ThermoLearn.Processes.Geometry;
using Xunit;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Tests.Transformers;

public class TransformerTests
{
    private static readonly TransformerConfig Tiny = new() { Vocabulary = 3, Layers = 2, DModel = 16, Heads = 2, DHead = 4, DMlp = 32, NCtx = 4 };

    private static BeliefDataset Mess3Exact(int nCtx, double x = 0.05, double a = 0.85)
    {
        var process = StandardProcesses.Mess3(x, a);
        return BeliefDataset.FromPrefixTree(PrefixTree.Enumerate(process, nCtx), nCtx);
    }

    [Fact]
    public void ShapesOfLogitsAndResidualStreams()
    {
        TorchRuntime.Initialise(1);
        using var model = TransformerTrainer.CreateModel(Tiny, 1);
        using var scope = NewDisposeScope();
        var tokens = tensor(new long[] { 0, 1, 2, 0, 2, 2, 1, 0 }, [2, 4], ScalarType.Int64);
        var (logits, residuals) = model.ForwardWithResiduals(tokens);
        Assert.Equal([2L, 4, 3], logits.shape);
        Assert.Equal(3, residuals.Length);
        Assert.All(residuals, r => Assert.Equal([2L, 4, 16], r.shape));
        Assert.Equal([2L, 3, 3], model.forward(tokens.narrow(1, 0, 3)).shape);
        Assert.Throws<InvalidInputException>(() => model.forward(tensor(new long[10], [2, 5], ScalarType.Int64)));
        Assert.Throws<InvalidInputException>(() => new BeliefTransformer(Tiny with { DModel = 0 }));
        Assert.Throws<InvalidInputException>(() => new BeliefTransformer(Tiny with { Vocabulary = 1 }));
    }

    [Fact]
    public void PrefixTreeProbeEqualsTheFullCausalForward()
    {
        // The probe computes each distinct prefix once from its parent's keys and values; causal attention
        // makes that identical (up to float32 round-off) to running the whole prefix through the model.
        TorchRuntime.Initialise(1);
        using var model = TransformerTrainer.CreateModel(Tiny, 3);
        var data = Mess3Exact(4);
        var probe = TransformerProbe.Run(model, data, captureResiduals: true);
        double expectedCe = 0;
        using (var scope = NewDisposeScope())
        using (var inference = inference_mode())
        {
            for (int r = 0; r < data.RowCount; r++)
            {
                var word = new List<long>();
                for (int k = r; k >= 0; k = data.RowParent[k]) word.Insert(0, data.RowTokens[k]);
                var (logits, residuals) = model.ForwardWithResiduals(tensor(word.ToArray(), [1, word.Count], ScalarType.Int64));
                for (int l = 0; l < residuals.Length; l++)
                {
                    var full = residuals[l][0, word.Count - 1].data<float>().ToArray();
                    for (int k = 0; k < full.Length; k++) Assert.Equal(full[k], probe.Residuals![l][r, k], 2e-5 * (1 + Math.Abs(full[k])));
                }
                var logQ = logits[0, word.Count - 1].log_softmax(0).data<float>().ToArray();
                var law = data.RowNextTokenLaw(r);
                for (int y = 0; y < 3; y++) expectedCe -= data.RowWeights[r] * law[y] * logQ[y] / data.Length;
            }
        }
        Assert.Equal(expectedCe, probe.CrossEntropy, 1e-6);
        Assert.Equal(0.0, probe.StandardError);
    }

    [Fact]
    public void ExactDatasetReproducesTheCrossEntropyFloor()
    {
        // Spec section 4: Mess3(0.05, 0.85), n_ctx 10: floor 0.802512 nats; 3 + 9 + ... + 3^10 = 88,572 prefixes.
        var data = Mess3Exact(10);
        Assert.Equal(88_572, data.RowCount);
        Assert.Equal(0.802512, data.CrossEntropyFloor(), 6);
        for (int j = 0; j < 10; j++)
            Assert.Equal(1.0, data.RowWeights.Where((_, r) => data.RowPosition[r] == j).Sum(), 12);
    }

    private static TrainingResult TrainTiny(ulong seed, TransformerOptimizer optimizer, double lr, long tokens, BeliefDataset data) =>
        TrainTinyWithWeights(seed, optimizer, lr, tokens, data).Result;

    private static (TrainingResult Result, float[] Weights) TrainTinyWithWeights(ulong seed, TransformerOptimizer optimizer, double lr, long tokens, BeliefDataset data)
    {
        var process = StandardProcesses.Mess3(0.05, 0.85);
        using var model = TransformerTrainer.CreateModel(Tiny with { NCtx = data.Length }, seed);
        var options = new TransformerTrainingOptions { Optimizer = optimizer, LearningRate = lr, BatchSize = 64, MaxTokens = tokens, Seed = seed, Threads = 1, ValidationIntervalSeconds = 1e9 };
        var result = TransformerTrainer.Train(model, BeliefTask.Batches(process, data.Length, seed), data, options);
        var weights = model.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();
        return (result, weights);
    }

    [Fact]
    public void TrainingIsDeterministicForASeedOnOneThread()
    {
        var data = Mess3Exact(4);
        var (a, wa) = TrainTinyWithWeights(5, TransformerOptimizer.Sgd, 0.01, 64 * 4 * 40, data);
        // Other code (tests running in parallel) may reseed libtorch's global generator: the model must not care.
        random.manual_seed(999);
        var (b, wb) = TrainTinyWithWeights(5, TransformerOptimizer.Sgd, 0.01, 64 * 4 * 40, data);
        var c = TrainTiny(6, TransformerOptimizer.Sgd, 0.01, 64 * 4 * 40, data);
        Assert.Equal(40, a.Steps);
        Assert.Equal(a.FinalValidationLoss, b.FinalValidationLoss);
        Assert.Equal(wa, wb);
        Assert.NotEqual(a.FinalValidationLoss, c.FinalValidationLoss);
    }

    [Fact]
    public void TinyModelBeatsTheUnigramBaselineAndNeverTheFloor()
    {
        // Mess3 tokens are uniform (unigram CE = ln 3 = 1.0986 nats); the floor at n_ctx 4 is lower because
        // tokens predict tokens. 300 Adam steps must close most of that gap and no validation may fall below the floor.
        var data = Mess3Exact(4);
        double floor = data.CrossEntropyFloor();
        var result = TrainTiny(1, TransformerOptimizer.Adam, 0.01, 64 * 4 * 300, data);
        double unigram = Math.Log(3);
        Assert.True(result.FinalValidationLoss < unigram - 0.5 * (unigram - floor), $"validation CE {result.FinalValidationLoss} vs unigram {unigram}, floor {floor}");
        Assert.All(result.Log.Where(e => e.ValidationLoss is not null), e => Assert.True(e.ValidationLoss >= floor - 1e-6, $"{e.ValidationLoss} < floor {floor}"));
    }

    [Fact]
    public void RunFolderRoundTripsAndRejectsBadTargets()
    {
        TorchRuntime.Initialise(1);
        string root = Path.Combine(Path.GetTempPath(), "thermolearn-run-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            var task = new BeliefTask("mess3", ["x=0.05", "a=0.85"], 4, 64, 2);
            var process = task.CreateProcess();
            var data = task.CreateDataset(process);
            Assert.True(data.Exact);
            string dir = Path.Combine(root, "run");
            using var model = TransformerTrainer.CreateModel(Tiny, 2);
            var options = new TransformerTrainingOptions { MaxTokens = 64 * 4 * 20, CheckpointTokens = [64 * 4 * 10], Threads = 1 };
            var run = TrainingRun.Execute(dir, task.ToJson(), model, options, BeliefTask.Batches(process, 4, 2), data);
            Assert.Equal(2, run.Checkpoints.Count);
            Assert.Equal(64 * 4 * 10, run.Checkpoints[0].Tokens);
            Assert.DoesNotContain(Directory.GetDirectories(root), d => Path.GetFileName(d).StartsWith('.'));

            var loaded = TrainingRun.Load(dir);
            Assert.Equal(Tiny, loaded.Model);
            Assert.Equal(run.Result, loaded.Result);
            Assert.Equal(task, BeliefTask.FromJson(loaded.Process, "run.json") with { Settings = task.Settings });
            using var restored = loaded.LoadModel(loaded.Checkpoints[^1]);
            Assert.Equal(run.Result.FinalValidationLoss, TransformerProbe.Run(restored, data, false).CrossEntropy, 10);

            Assert.Throws<InvalidInputException>(() => TrainingRun.CheckTarget(dir));
            Assert.Throws<InvalidInputException>(() => TrainingRun.Load(root));
            File.WriteAllText(Path.Combine(dir, "run.json"), "{\"format\": \"something else\"}");
            Assert.Throws<InvalidInputException>(() => TrainingRun.Load(dir));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void BadTrainingOptionsAreRejected()
    {
        Assert.Throws<InvalidInputException>(() => new TransformerTrainingOptions().Validate());
        Assert.Throws<InvalidInputException>(() => new TransformerTrainingOptions { MaxTokens = 10, LearningRate = double.NaN }.Validate());
        Assert.Throws<InvalidInputException>(() => new TransformerTrainingOptions { MaxTokens = 10, BatchSize = 0 }.Validate());
        Assert.Throws<InvalidInputException>(() => new TransformerTrainingOptions { MaxSeconds = -1 }.Validate());
        var data = Mess3Exact(3);
        using var model = TransformerTrainer.CreateModel(Tiny, 1);
        Assert.Throws<InvalidInputException>(() => TransformerProbe.Run(model, data, false));
    }
}
