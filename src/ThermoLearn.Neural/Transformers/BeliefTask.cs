using System.Text.Json.Nodes;
using ThermoLearn.Processes;
using ThermoLearn.Processes.Geometry;
using ThermoLearn.Randomness;

namespace ThermoLearn.Neural.Transformers;

/// <summary>
/// What a belief-geometry run trains on and is measured against: a process (catalogue name or file, with
/// settings), its training batches, and the validation/probe dataset. The dataset is exact (every prefix up to
/// n_ctx) when the prefix tree has at most <see cref="MaxExactPrefixes"/> nodes, otherwise
/// <see cref="ValidationSequences"/> sampled sequences.
/// </summary>
public sealed record BeliefTask(string Spec, IReadOnlyList<string> Settings, int NCtx, int ValidationSequences, ulong Seed)
{
    /// <summary>Prefixes (all lengths) above which the dataset is sampled: 1 + V + ... + V^n_ctx for Mess3 at n_ctx 10 is 88,573.</summary>
    public const long MaxExactPrefixes = 400_000;

    public HiddenMarkovProcess CreateProcess() => ProcessCatalog.Create(Spec, Settings);

    /// <summary>Training batches: batch b holds sequences b*batch .. (b+1)*batch-1 of the run seed, each from pi.</summary>
    public static TrainingBatchSource Batches(HiddenMarkovProcess process, int nCtx, ulong seed)
    {
        var sampler = new ProcessSampler(process);
        int[]? scratch = null;
        return (batchIndex, batchSize, tokens) =>
        {
            int length = nCtx + 1;
            if (scratch is null || scratch.Length != batchSize * length) scratch = new int[batchSize * length];
            sampler.Sample(scratch, batchSize, length, seed, batchIndex * batchSize);
            for (int k = 0; k < scratch.Length; k++) tokens[k] = scratch[k];
        };
    }

    /// <summary>The validation and probe dataset (exact when small enough; otherwise sampled with a seed distinct from training's).</summary>
    public BeliefDataset CreateDataset(HiddenMarkovProcess process)
    {
        double bound = 0, level = 1;
        for (int d = 1; d <= NCtx; d++)
        {
            level *= process.Tokens;
            bound += level;
        }
        if (bound <= MaxExactPrefixes) return BeliefDataset.FromPrefixTree(PrefixTree.Enumerate(process, NCtx), NCtx);
        return BeliefDataset.Sample(process, NCtx, ValidationSequences, RandomStream.SplitMix64(Seed ^ RandomPurposes.BeliefValidationSeedKey));
    }

    public JsonObject ToJson() => new()
    {
        ["spec"] = Spec,
        ["settings"] = new JsonArray(Settings.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
        ["n_ctx"] = NCtx,
        ["validation_sequences"] = ValidationSequences,
        ["seed"] = Seed,
    };

    public static BeliefTask FromJson(JsonNode node, string where)
    {
        try
        {
            string spec = (string?)node["spec"] ?? throw new InvalidInputException($"{where}: the process 'spec' is missing.");
            var settings = node["settings"]?.AsArray().Select(s => (string?)s ?? "").ToArray() ?? [];
            return new BeliefTask(spec, settings, (int?)node["n_ctx"] ?? throw new InvalidInputException($"{where}: 'n_ctx' is missing."),
                (int?)node["validation_sequences"] ?? 4096, (ulong?)node["seed"] ?? 0);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{where}: malformed process record ({e.Message}).", e);
        }
    }
}
