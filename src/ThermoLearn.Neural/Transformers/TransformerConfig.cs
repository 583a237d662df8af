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

    /// <summary>Weights and biases of the model: embeddings, per block attention (Q, K, V, O) and MLP, layer norms, unembedding.</summary>
    public double Parameters()
    {
        double dm = DModel, attention = (double)Heads * DHead;
        double block = 4 * dm * attention + 3 * attention + dm   // Q, K, V, O with biases
            + 2 * dm * DMlp + DMlp + dm                            // MLP in and out with biases
            + 4 * dm;                                              // two layer norms
        return (double)Vocabulary * dm + (double)NCtx * dm + Layers * block + 2 * dm + dm * Vocabulary + Vocabulary;
    }

    /// <summary>
    /// Memory one training step needs, in bytes (float32), from the shape and <paramref name="batch"/>: the weights with
    /// their gradients and two Adam moments (4 copies), and twice the activations autograd keeps for the backward pass
    /// (per block about 10 d_model + 3 d_mlp + 4 heads x d_head values per token plus 3 attention maps of n_ctx per head,
    /// and 3 copies of the logits). An estimate to refuse an impossible run before it allocates, not an exact figure.
    /// </summary>
    public double TrainingBytes(int batch)
    {
        double tokens = (double)batch * NCtx;
        double perToken = Layers * (10.0 * DModel + 3.0 * DMlp + 4.0 * Heads * DHead + 3.0 * Heads * NCtx) + 3.0 * Vocabulary + 2.0 * DModel;
        return 4 * (4 * Parameters() + 2 * tokens * perToken);
    }

    private static void Check(int value, string name, int minimum)
    {
        if (value < minimum) throw new InvalidInputException($"transformer {name} must be at least {minimum}, not {value}.");
    }
}
