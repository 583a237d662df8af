using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Transformers;

/// <summary>
/// Decoder-only transformer with pre-LayerNorm blocks:
/// <c>x_0 = E[tokens] + P[positions]</c>, then per block
/// <c>x = x + Attn(LN1(x))</c> (causal, softmax(q k^T / sqrt(d_head)) v over heads) and
/// <c>x = x + W2 ReLU(W1 LN2(x) + b1) + b2</c>, and logits <c>= U LN_f(x_L) + b_U</c>.
/// The residual stream after block l is x_l (x_0 = embeddings), the quantity regressed onto beliefs in
/// Shai et al., NeurIPS 2024 (arXiv:2405.15943). Parameters are float32 with PyTorch's default initialisation.
/// </summary>
public sealed class BeliefTransformer : nn.Module<Tensor, Tensor>
{
    private readonly Embedding token_embedding;
    private readonly Parameter position_embedding;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly LayerNorm ln_final;
    private readonly Linear unembed;

    public BeliefTransformer(TransformerConfig config) : base(nameof(BeliefTransformer))
    {
        config.Validate();
        Config = config;
        token_embedding = nn.Embedding(config.Vocabulary, config.DModel);
        position_embedding = new Parameter(randn(config.NCtx, config.DModel));
        blocks = new ModuleList<TransformerBlock>();
        for (int l = 0; l < config.Layers; l++) blocks.Add(new TransformerBlock(config));
        ln_final = nn.LayerNorm(config.DModel);
        unembed = nn.Linear(config.DModel, config.Vocabulary);
        RegisterComponents();
    }

    public TransformerConfig Config { get; }

    /// <summary>Logits (batch, T, vocabulary) for tokens (batch, T) with T &lt;= n_ctx.</summary>
    public override Tensor forward(Tensor tokens)
    {
        var x = Embed(tokens);
        foreach (var block in blocks) x = block.forward(x);
        return unembed.forward(ln_final.forward(x));
    }

    /// <summary>
    /// Logits and the residual stream after the embedding and after every block: element l of the array is
    /// x_l with shape (batch, T, d_model), l = 0..Layers.
    /// </summary>
    public (Tensor Logits, Tensor[] Residuals) ForwardWithResiduals(Tensor tokens)
    {
        var residuals = new Tensor[Config.Layers + 1];
        var x = Embed(tokens);
        residuals[0] = x;
        for (int l = 0; l < Config.Layers; l++)
        {
            x = blocks[l].forward(x);
            residuals[l + 1] = x;
        }
        return (unembed.forward(ln_final.forward(x)), residuals);
    }

    private Tensor Embed(Tensor tokens)
    {
        if (tokens.dim() != 2 || tokens.shape[1] > Config.NCtx || tokens.shape[1] < 1)
            throw new InvalidInputException($"the transformer reads (batch, T) token ids with 1 <= T <= {Config.NCtx}, not shape [{string.Join(", ", tokens.shape)}].");
        long t = tokens.shape[1];
        var positions = t == Config.NCtx ? position_embedding : position_embedding.narrow(0, 0, t);
        return token_embedding.forward(tokens) + positions;
    }
}

/// <summary>One pre-LayerNorm block: causal multi-head attention then a ReLU MLP, each added to the residual stream.</summary>
internal sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln1;
    private readonly Linear qkv;
    private readonly Linear attn_out;
    private readonly LayerNorm ln2;
    private readonly Linear mlp_in;
    private readonly Linear mlp_out;
    private readonly int _heads;
    private readonly int _dHead;

    public TransformerBlock(TransformerConfig config) : base(nameof(TransformerBlock))
    {
        _heads = config.Heads;
        _dHead = config.DHead;
        int width = config.Heads * config.DHead;
        ln1 = nn.LayerNorm(config.DModel);
        // Queries, keys and values in one matrix product: one kernel launch instead of three.
        qkv = nn.Linear(config.DModel, 3 * width);
        attn_out = nn.Linear(width, config.DModel);
        ln2 = nn.LayerNorm(config.DModel);
        mlp_in = nn.Linear(config.DModel, config.DMlp);
        mlp_out = nn.Linear(config.DMlp, config.DModel);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long batch = x.shape[0], t = x.shape[1];
        var h = qkv.forward(ln1.forward(x)).view(batch, t, 3, _heads, _dHead).permute(2, 0, 3, 1, 4);
        var attended = nn.functional.scaled_dot_product_attention(h[0], h[1], h[2], is_casual: true);
        x = x + attn_out.forward(attended.transpose(1, 2).reshape(batch, t, _heads * _dHead));
        return x + mlp_out.forward(nn.functional.relu(mlp_in.forward(ln2.forward(x))));
    }
}
