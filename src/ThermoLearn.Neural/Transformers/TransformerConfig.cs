namespace ThermoLearn.Neural.Transformers;

/// <summary>
/// Shape of a decoder-only transformer. Defaults: the model of Shai et al., "Transformers represent belief
/// state geometry in their residual stream", NeurIPS 2024 (arXiv:2405.15943) for Mess3: 4 layers,
/// d_model 64, one head of width 8, d_mlp 256, context 10.
/// </summary>
public sealed record TransformerConfig
{
    /// <summary>Number of token ids the model reads and predicts.</summary>
    public required int Vocabulary { get; init; }
    public int Layers { get; init; } = 4;
    public int DModel { get; init; } = 64;
    public int Heads { get; init; } = 1;
    public int DHead { get; init; } = 8;
    public int DMlp { get; init; } = 256;

    /// <summary>Context length: the model reads n_ctx tokens and predicts each next one.</summary>
    public int NCtx { get; init; } = 10;

    /// <summary>Throws <see cref="InvalidInputException"/> naming the first impossible value.</summary>
    public void Validate()
    {
        Check(Vocabulary, "vocabulary", 2);
        Check(Layers, "layers", 1);
        Check(DModel, "d_model", 1);
        Check(Heads, "heads", 1);
        Check(DHead, "d_head", 1);
        Check(DMlp, "d_mlp", 1);
        Check(NCtx, "n_ctx", 1);
        if (DModel > 65536 || DMlp > 1 << 20 || (long)Heads * DHead > 65536 || Layers > 256 || NCtx > 1 << 16)
            throw new InvalidInputException($"transformer shape {this} is too large for this tool.");
    }

    private static void Check(int value, string name, int minimum)
    {
        if (value < minimum) throw new InvalidInputException($"transformer {name} must be at least {minimum}, not {value}.");
    }
}
