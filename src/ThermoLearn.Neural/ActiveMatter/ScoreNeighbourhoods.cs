using ThermoLearn.Randomness;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.ActiveMatter;

/// <summary>
/// Minibatches of particles' neighbourhoods for training a <see cref="LocalScoreNetwork"/> (<see cref="ScoreSettings.CentresPerStep"/>).
/// The network's output for particle i reads only the particles within Rounds hops of i along the neighbour lists (round l
/// needs the states after round l - 1 of i's neighbours, and so on down to their inputs), so a batch is the union of the
/// centres' Rounds-hop neighbourhoods, as one configuration of disjoint patches (one per snapshot drawn), ordered by hops:
/// the centres, then the particles 1 hop away, ..., then Rounds hops away, then one inert particle that stands for any
/// neighbour outside the batch (it only sets a fading radius). Neighbour lists are those of the whole snapshot, built
/// once per training snapshot, so each centre sees exactly what it sees on the whole configuration.
/// </summary>
internal sealed class NeighbourhoodBatches
{
    private readonly LocalScoreNetwork _network;
    private readonly ScoreData _data;
    private readonly int _slots, _rounds, _n;
    private readonly long[][] _index;
    private readonly float[][] _displacement;
    private readonly float[][] _mask;
    private readonly int[] _hop;
    private readonly double _forceScale;

    public NeighbourhoodBatches(LocalScoreNetwork network, ScoreData data, AoupParameters parameters)
    {
        _network = network;
        _data = data;
        _n = data.Particles;
        _rounds = network.Shape.Rounds;
        var lists = new LocalNeighbours(_n, network.Shape.Neighbours);
        _slots = lists.Slots;
        _index = new long[data.Snapshots][];
        _displacement = new float[data.Snapshots][];
        _mask = new float[data.Snapshots][];
        for (int t = 0; t < data.Snapshots; t++)
        {
            lists.Build(data.PositionsOf(t), network.Shape.Cutoff, data.Box);
            _index[t] = (long[])lists.Index.Clone();
            _displacement[t] = (float[])lists.Displacement.Clone();
            _mask[t] = (float[])lists.Mask.Clone();
        }
        _hop = new int[_n];
        Array.Fill(_hop, -1);
        _forceScale = parameters.V0 != 0 ? 1 / parameters.V0 : 1;
    }

    /// <summary>
    /// Draws <paramref name="centres"/> (snapshot, particle) pairs uniformly (a pair drawn twice counts once) and returns
    /// the batch with layers[h] = particles within h hops of the centres, h = 0..Rounds (layers[0]: the centres), and which
    /// particle of which snapshot each centre row is.
    /// </summary>
    public (ScoreInput Input, int[] Layers, (int Snapshot, int Particle)[] Centres) Draw(int centres, ref RandomStream random, bool noisyX)
    {
        var picks = new (int Snapshot, int Particle)[centres];
        for (int c = 0; c < centres; c++)
            picks[c] = ((int)(random.NextUInt64() % (ulong)_data.Snapshots), (int)(random.NextUInt64() % (ulong)_n));
        Array.Sort(picks);
        // per snapshot drawn: its particles by hop (breadth first along the lists' neighbours)
        var groups = new List<(int Snapshot, List<int>[] Layers)>();
        for (int c = 0; c < centres;)
        {
            int t = picks[c].Snapshot;
            var layers = new List<int>[_rounds + 1];
            for (int h = 0; h <= _rounds; h++) layers[h] = [];
            for (; c < centres && picks[c].Snapshot == t; c++)
            {
                int i = picks[c].Particle;
                if (_hop[i] >= 0) continue;
                _hop[i] = 0;
                layers[0].Add(i);
            }
            for (int h = 1; h <= _rounds; h++)
                foreach (int i in layers[h - 1])
                    for (int q = 0; q < _slots - 1; q++)
                    {
                        int j = (int)_index[t][i * _slots + q];
                        if (_mask[t][i * _slots + q] == 0 || _hop[j] >= 0) continue;
                        _hop[j] = h;
                        layers[h].Add(j);
                    }
            foreach (var layer in layers)
                foreach (int i in layer) _hop[i] = -1;
            groups.Add((t, layers));
        }
        // global order: hop 0 of every group, then hop 1, ...; then the inert particle
        var order = new List<(int Group, int Particle, int Hop)>();
        var ends = new int[_rounds + 1];
        for (int h = 0; h <= _rounds; h++)
        {
            for (int gi = 0; gi < groups.Count; gi++)
                foreach (int i in groups[gi].Layers[h]) order.Add((gi, i, h));
            ends[h] = order.Count;
        }
        int size = order.Count + 1, inert = order.Count;
        var where = new Dictionary<int, int>[groups.Count];
        for (int gi = 0; gi < groups.Count; gi++) where[gi] = [];
        for (int e = 0; e < order.Count; e++) where[order[e].Group][order[e].Particle] = e;
        var g = new float[size * 2];
        var centred = _network.Trapped ? new float[size * 2] : null;
        var force = _network.Shape.ForceInput ? new float[size * 2] : null;
        int columns = ScoreData.ContactColumns;
        var contacts = _network.Shape.ContactInput ? new float[size * columns] : null;
        var index = new long[size * _slots];
        var displacement = new float[size * _slots * 2];
        var mask = new float[size * _slots];
        for (int e = 0; e < size; e++)
            for (int q = 0; q < _slots; q++) index[e * _slots + q] = e;   // empty slots point at their own particle (mask 0)
        for (int e = 0; e < order.Count; e++)
        {
            var (gi, i, hop) = order[e];
            int t = groups[gi].Snapshot;
            ReadOnlySpan<double> x = _data.PositionsOf(t), gt = _data.GOf(t);
            g[2 * e] = (float)gt[2 * i];
            g[2 * e + 1] = (float)gt[2 * i + 1];
            if (centred is not null)
            {
                centred[2 * e] = (float)x[2 * i];
                centred[2 * e + 1] = (float)x[2 * i + 1];
            }
            if (force is not null)
            {
                var f = _data.InteractionForces ?? throw new InvalidInputException("this score network reads the pair forces F_i; the data carry none (non-interacting model?).");
                long row = (long)t * _n * 2 + 2 * i;
                force[2 * e] = (float)(_forceScale * f[row]);
                force[2 * e + 1] = (float)(_forceScale * f[row + 1]);
            }
            if (contacts is not null)
            {
                var source = _data.Contacts ?? throw new InvalidInputException("this score network reads the contact fields; the data carry none (non-interacting model?).");
                for (int q = 0; q < columns; q++) contacts[e * columns + q] = (float)source[((long)t * _n + i) * columns + q];
            }
            if (hop == _rounds) continue;   // the outermost particles are read, never updated: no lists
            for (int q = 0; q < _slots; q++)
            {
                int source = i * _slots + q, target = e * _slots + q;
                if (_mask[t][source] == 0) continue;
                int j = (int)_index[t][source];
                bool inside = where[gi].TryGetValue(j, out int ej);
                if (!inside && q < _slots - 1)
                    throw new InvalidOperationException($"neighbourhood batch: neighbour {j} of particle {i} (snapshot {t}) is missing.");
                index[target] = inside ? ej : inert;
                mask[target] = 1;
                displacement[2 * target] = _displacement[t][2 * source];
                displacement[2 * target + 1] = _displacement[t][2 * source + 1];
            }
        }
        Tensor gTensor = tensor(g, [1, size, 2]).requires_grad_(true);
        Tensor shift = zeros(1, size, 2);
        if (noisyX) shift.requires_grad_(true);
        var input = new ScoreInput(gTensor, shift, centred is null ? null : tensor(centred, [1, size, 2]), tensor(displacement, [1, size, _slots, 2]),
            tensor(index, [1, size * _slots]), tensor(mask, [1, size, _slots]), force is null ? null : tensor(force, [1, size, 2]),
            contacts is null ? null : tensor(contacts, [1, size, columns]));
        var drawn = new (int, int)[ends[0]];
        for (int e = 0; e < ends[0]; e++) drawn[e] = (groups[order[e].Group].Snapshot, order[e].Particle);
        int features = _network.Shape.LinearFeatures;
        if (features > 0)
        {
            // the linear head scores the centres only: their features and divergences
            float[] source = _data.Basis ?? throw new InvalidInputException("this score network has a linear head over the particle basis; the data carry no basis.");
            var values = new float[ends[0] * 2 * features];
            var divergences = new float[ends[0] * 2 * features];
            for (int e = 0; e < ends[0]; e++)
            {
                long row = (long)drawn[e].Item1 * _n + drawn[e].Item2;
                Array.Copy(source, row * 2 * features, values, e * 2 * features, 2 * features);
                Array.Copy(_data.BasisDivergence!, row * 2 * features, divergences, e * 2 * features, 2 * features);
            }
            input = input with { Basis = tensor(values, [1, ends[0], 2, features]), BasisDivergence = tensor(divergences, [1, ends[0], 2, features]) };
        }
        return (input, ends, drawn);
    }
}
