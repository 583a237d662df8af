using ThermoLearn.Neural.Runtime;
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

    /// <summary>
    /// One level of a prefix tree: the prefixes of length <paramref name="position"/> + 1 are their parents
    /// (rows <paramref name="parents"/> of the previous level, whose keys and values per layer are in
    /// <paramref name="cache"/>) extended by <paramref name="tokens"/>. Returns the logits and residual streams at
    /// the new position only (shape (N, ·)), and replaces <paramref name="cache"/> by the keys and values of the new
    /// level. Computing each distinct prefix once costs sum_L V^L positions instead of n_ctx V^n_ctx; the
    /// result equals <see cref="ForwardWithResiduals"/> at the last position (causal attention).
    /// </summary>
    public (Tensor Logits, Tensor[] Residuals) ExtendPrefixes(Tensor tokens, int position, Tensor? parents, (Tensor Keys, Tensor Values)[]? cache,
        out (Tensor Keys, Tensor Values)[] next)
    {
        if (position < 0 || position >= Config.NCtx) throw new InvalidInputException($"position {position} is outside the context 0..{Config.NCtx - 1}.");
        if ((position == 0) != (parents is null)) throw new InvalidInputException("prefixes of length 1 have no parents; longer prefixes need them.");
        var residuals = new Tensor[Config.Layers + 1];
        var x = token_embedding.forward(tokens).Plus(position_embedding[position]);
        residuals[0] = x;
        next = new (Tensor, Tensor)[Config.Layers];
        for (int l = 0; l < Config.Layers; l++)
        {
            Tensor? keys = null, values = null;
            if (parents is not null)
            {
                keys = cache![l].Keys.index_select(0, parents);
                values = cache[l].Values.index_select(0, parents);
            }
            x = blocks[l].ForwardLast(x, ref keys, ref values);
            next[l] = (keys!, values!);
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
        return token_embedding.forward(tokens).Plus(positions);
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
        x = x.Plus(attn_out.forward(attended.transpose(1, 2).reshape(batch, t, _heads * _dHead)));
        return x.Plus(mlp_out.forward(nn.functional.relu(mlp_in.forward(ln2.forward(x)))));
    }

    /// <summary>
    /// The block at the last position only: x (N, d_model) is the new position; keys/values (N, heads, L-1, d_head)
    /// of the earlier positions (null for the first) are extended with the new position's.
    /// </summary>
    public Tensor ForwardLast(Tensor x, ref Tensor? keys, ref Tensor? values)
    {
        long n = x.shape[0];
        var h = qkv.forward(ln1.forward(x)).view(n, 3, _heads, 1, _dHead);
        var q = h.select(1, 0);
        var k = h.select(1, 1);
        var v = h.select(1, 2);
        keys = keys is null ? k.contiguous() : cat([keys, k], 2);
        values = values is null ? v.contiguous() : cat([values, v], 2);
        // One query attending to all earlier keys is causal attention at the last position: no mask.
        var attended = nn.functional.scaled_dot_product_attention(q, keys, values);
        x = x.Plus(attn_out.forward(attended.reshape(n, _heads * _dHead)));
        return x.Plus(mlp_out.forward(nn.functional.relu(mlp_in.forward(ln2.forward(x)))));
    }
}
