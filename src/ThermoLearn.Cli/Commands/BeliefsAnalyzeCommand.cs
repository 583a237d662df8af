using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Cli.Plotting;
using ThermoLearn.Neural.Runtime;
using ThermoLearn.Neural.Transformers;
using ThermoLearn.Processes.Geometry;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn beliefs analyze --run RUN_DIR [--plot-dir DIR] [--seed S] [--json]</c>: for every checkpoint of a
/// run, the validation cross-entropy against the floor, the belief regression per residual stream and
/// concatenated (R^2, RMSE, held-out and shuffled-label controls), weighted PCA dimensions, and for product
/// processes the factored-vs-joint analysis; the final checkpoint's numbers at the top level.
/// </summary>
internal static class BeliefsAnalyzeCommand
{
    public static Command Create(CliConsole console)
    {
        var run = new Option<string>("--run") { Description = "Run folder written by 'thermolearn beliefs train'.", Required = true };
        var plotDir = new Option<string?>("--plot-dir") { Description = "Folder for figures (PNG): belief simplex, explained variance, overlaps, metrics over training." };
        var seed = SharedOptions.OptionalSeed("Seed of the held-out split and label shuffle (default: the run's seed).");
        var threads = SharedOptions.TorchThreads(2);
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap replicates for the centroid dimension's standard errors.", DefaultValueFactory = _ => 100 };
        var rankBootstrap = new Option<int>("--rank-bootstrap")
        {
            Description = "Bootstrap replicates for the standard errors of the final checkpoint's scale-free ranks (final layer; each replicate re-chooses every rank). 0: off.",
            DefaultValueFactory = _ => 0,
        };
        var json = SharedOptions.Json();
        var command = new Command("analyze", "Measure belief-state geometry in the residual streams of a trained run, at every checkpoint.") { run, plotDir, seed, threads, bootstrap, rankBootstrap, json };
        command.SetAction(parse =>
        {
            string? plots = parse.GetValue(plotDir);
            if (plots is not null && File.Exists(plots))
                throw new InvalidInputException($"--plot-dir {plots}: this is a file, not a folder.");
            int replicates = parse.GetValue(bootstrap);
            if (replicates < 2) throw new InvalidInputException($"--bootstrap must be at least 2, not {replicates}.");
            int rankReplicates = parse.GetValue(rankBootstrap);
            if (rankReplicates is < 0 or 1) throw new InvalidInputException($"--rank-bootstrap must be 0 (off) or at least 2, not {rankReplicates}.");
            var training = TrainingRun.Load(parse.GetValue(run)!);
            var task = BeliefTask.FromJson(training.Process, Path.Combine(training.Directory, "run.json"));
            var process = task.CreateProcess();
            if (process.Tokens != training.Model.Vocabulary || task.NCtx != training.Model.NCtx)
                throw new InvalidInputException($"{training.Directory}: the recorded process ({process.Tokens} tokens, n_ctx {task.NCtx}) does not match the model ({training.Model.Vocabulary} tokens, n_ctx {training.Model.NCtx}).");
            TorchRuntime.Initialise(parse.GetValue(threads));
            var data = task.CreateDataset(process);
            double floor = data.CrossEntropyFloor();
            ulong analysisSeed = parse.GetValue(seed) ?? task.Seed;
            var reporter = new ProgressReporter(console, "analyze");
            // What the hypotheses predict, measured on the true beliefs as the activations are (once: it does not depend on the model).
            var truth = TrueBeliefGeometry.Compute(data, replicates, analysisSeed);
            var perCheckpoint = new List<(TrainingCheckpoint Checkpoint, ProbeResult Probe, BeliefGeometryReport Report)>();
            BeliefRankErrors? rankErrors = null;
            for (int c = 0; c < training.Checkpoints.Count; c++)
            {
                var checkpoint = training.Checkpoints[c];
                using var model = training.LoadModel(checkpoint);
                var probe = TransformerProbe.Run(model, data, captureResiduals: true);
                var report = BeliefGeometryReport.Compute(probe.Residuals!, data, analysisSeed, replicates);
                if (rankReplicates > 0 && c == training.Checkpoints.Count - 1)
                    rankErrors = BeliefRankBootstrap.Compute(probe.Residuals![^1], data, rankReplicates, analysisSeed);
                // Keep only what the summary and plots need: the residual matrices are large.
                perCheckpoint.Add((checkpoint, probe with { Residuals = null }, report));
                reporter.Report((c + 1.0) / training.Checkpoints.Count, $"checkpoint {checkpoint.Tokens:N0} tokens: R^2 {report.Final.InSample.RSquared:F4}");
            }
            var (lastCheckpoint, lastProbe, last) = perCheckpoint[^1];
            var files = new JsonArray();
            if (plots is not null)
                foreach (string file in BeliefPlots.WriteAll(plots, training, data, perCheckpoint.Select(p => (p.Checkpoint.Tokens, p.Probe.CrossEntropy, p.Report)).ToList(), floor, truth))
                    files.Add(file);
            var result = new JsonObject
            {
                ["run"] = training.Directory,
                ["process"] = process.Name,
                ["checkpoint_tokens"] = lastCheckpoint.Tokens,
                ["exact"] = data.Exact,
                ["prefixes"] = data.RowCount,
                ["val_ce_exact"] = data.Exact ? JsonOutput.Number(lastProbe.CrossEntropy) : null,
                ["val_ce"] = JsonOutput.Number(lastProbe.CrossEntropy),
                ["val_ce_stderr"] = JsonOutput.Number(lastProbe.StandardError),
                ["ce_floor_nats"] = JsonOutput.Number(floor),
                ["gap_nats"] = JsonOutput.Number(lastProbe.CrossEntropy - floor),
                ["r2_final"] = JsonOutput.Number(last.Final.InSample.RSquared),
                ["rmse_final"] = JsonOutput.Number(last.Final.InSample.Rmse),
                ["r2_concat"] = JsonOutput.Number(last.Concatenated.InSample.RSquared),
                ["layers"] = new JsonArray(last.Layers.Append(last.Concatenated).Select(g => (JsonNode?)Layer(g)).ToArray()),
                ["pca_dimensions"] = new JsonObject { ["final"] = Pca(last.Final.Pca), ["concat"] = Pca(last.Concatenated.Pca) },
                ["centroids"] = Centroids(last.Centroids, last.FactoredFinal, last.NextTokenShare),
                ["centroids_concat"] = Centroids(last.CentroidsConcatenated, last.FactoredFinal, last.NextTokenShareConcatenated),
                ["rank_bootstrap"] = rankErrors is null ? null : new JsonObject
                {
                    ["replicates"] = rankErrors.Replicates,
                    ["units"] = rankErrors.Units,
                    ["rank"] = rankErrors.Rank.Rank,
                    ["rank_mean"] = JsonOutput.Number(rankErrors.RankMean),
                    ["rank_stderr"] = JsonOutput.Number(rankErrors.RankStandardError),
                    ["factored"] = rankErrors.Split?.Factored.Rank,
                    ["factored_mean"] = JsonOutput.Number(rankErrors.FactoredMean),
                    ["factored_stderr"] = JsonOutput.Number(rankErrors.FactoredStandardError),
                    ["excess"] = rankErrors.Split?.JointExcess.Rank,
                    ["excess_mean"] = JsonOutput.Number(rankErrors.ExcessMean),
                    ["excess_stderr"] = JsonOutput.Number(rankErrors.ExcessStandardError),
                    ["excess_share_stderr"] = JsonOutput.Number(rankErrors.ExcessShareStandardError),
                },
                ["true_geometry"] = new JsonObject
                {
                    ["factored_rank"] = truth.FactoredRank,
                    ["joint_rank"] = truth.JointRank,
                    ["next_token_rank"] = truth.NextTokenRank,
                    ["factor_beliefs"] = Dimension(truth.FactorBeliefs.BeliefExplained),
                    ["joint_belief"] = Dimension(truth.JointBelief.BeliefExplained),
                    ["next_token_laws"] = Dimension(truth.NextTokenLaws.BeliefExplained),
                    ["factor_beliefs_rank"] = truth.FactorBeliefs.Rank?.Rank,
                    ["joint_belief_rank"] = truth.JointBelief.Rank?.Rank,
                    ["factor_beliefs_rank_split"] = truth.FactorBeliefs.RankSplit is { } fs ? Split(fs) : null,
                    ["joint_belief_rank_split"] = truth.JointBelief.RankSplit is { } js ? Split(js) : null,
                },
                ["factored_vs_joint"] = last.Comparison is { } comparison ? Comparison(comparison) : null,
                ["factored"] = last.FactoredFinal is null ? null : new JsonObject
                {
                    ["final"] = Factored(last.FactoredFinal),
                    ["concat"] = Factored(last.FactoredConcatenated!),
                },
                ["checkpoints"] = new JsonArray(perCheckpoint.Select(p => (JsonNode?)new JsonObject
                {
                    ["tokens"] = p.Checkpoint.Tokens,
                    ["val_ce"] = JsonOutput.Number(p.Probe.CrossEntropy),
                    ["gap_nats"] = JsonOutput.Number(p.Probe.CrossEntropy - floor),
                    ["r2_final"] = JsonOutput.Number(p.Report.Final.InSample.RSquared),
                    ["rmse_final"] = JsonOutput.Number(p.Report.Final.InSample.Rmse),
                    ["r2_concat"] = JsonOutput.Number(p.Report.Concatenated.InSample.RSquared),
                    ["pca95_final"] = p.Report.Final.Pca.For95,
                    ["participation_ratio_final"] = JsonOutput.Number(p.Report.Final.Pca.ParticipationRatio),
                    ["mean_factor_overlap_final"] = p.Report.FactoredFinal is { } f ? JsonOutput.Number(f.MeanOffDiagonalOverlap) : null,
                }).ToArray()),
                ["belief_linked_checkpoints"] = new JsonArray(perCheckpoint.Select(p => (JsonNode?)BeliefLinked(p.Checkpoint.Tokens, p.Report)).ToArray()),
                ["checkpoint_verdicts"] = last.Comparison is null ? null : new JsonArray(perCheckpoint.Select(p => (JsonNode?)new JsonObject
                {
                    ["tokens"] = p.Checkpoint.Tokens,
                    ["verdict"] = p.Report.Comparison!.Verdict,
                    ["reason"] = p.Report.Comparison.Reason,
                    ["factored_part"] = p.Report.Comparison.Split.Factored.Rank,
                    ["joint_excess"] = p.Report.Comparison.Split.JointExcess.Rank,
                    ["excess_share"] = JsonOutput.Number(p.Report.Comparison.Split.ExcessShare),
                    ["excess_share_stderr"] = JsonOutput.Number(p.Report.Comparison.Split.ExcessShareStandardError),
                    ["split_jointness"] = JsonOutput.Number(p.Report.Comparison.SplitJointness),
                    ["split_jointness_stderr"] = JsonOutput.Number(p.Report.Comparison.SplitJointnessStandardError),
                    ["margin"] = JsonOutput.Number(p.Report.Comparison.Margin),
                    ["margin_stderr"] = JsonOutput.Number(p.Report.Comparison.MarginStandardError),
                }).ToArray()),
                ["plots"] = files,
            };
            if (parse.GetValue(json)) JsonOutput.Write(console, result);
            else
            {
                console.Out.WriteLine($"{process.Name}, checkpoint at {lastCheckpoint.Tokens:N0} tokens: validation CE {lastProbe.CrossEntropy:F6} nats (floor {floor:F6}, gap {lastProbe.CrossEntropy - floor:F6})");
                foreach (var g in last.Layers.Append(last.Concatenated))
                    console.Out.WriteLine($"  layer {g.Layer,-6} R^2 {g.InSample.RSquared:F4}  RMSE {g.InSample.Rmse:F4}  held-out R^2 {g.HeldOut.RSquared:F4}  shuffled R^2 {g.ShuffledLabels.RSquared:F4}  PCA 95% {g.Pca.For95}");
                var c = last.Centroids;
                foreach (var (label, stream, d) in new[] { ("belief-explained centroid dimension", "final layer", c.BeliefExplained), ("raw centroid dimension", "final layer", c.Centroids),
                    ("belief-explained centroid dimension", "all layers concatenated, supporting", last.CentroidsConcatenated.BeliefExplained) })
                    console.Out.WriteLine($"  {label} ({stream}, {c.Groups:N0} groups): 80/90/95/99% {d.Pca.For80}/{d.Pca.For90}/{d.Pca.For95}/{d.Pca.For99} "
                        + $"(95%: {d.Pca.For95} +- {d.For95StandardError:F2}), participation ratio {d.Pca.ParticipationRatio:F2} +- {d.ParticipationRatioStandardError:F2} ({c.Replicates} bootstrap replicates over {c.Units:N0} units)");
                string Measured(DimensionEstimate d) => $"{d.Pca.For95} +- {d.For95StandardError:F2} (80/90/95/99% {d.Pca.For80}/{d.Pca.For90}/{d.Pca.For95}/{d.Pca.For99}, participation ratio {d.Pca.ParticipationRatio:F2})";
                console.Out.WriteLine($"  true beliefs, same measure: factor beliefs {Measured(truth.FactorBeliefs.BeliefExplained)} (rank bound sum_i (d_i - 1) = {truth.FactoredRank}); "
                    + $"joint belief {Measured(truth.JointBelief.BeliefExplained)} (rank bound {truth.JointRank}); next-token laws {Measured(truth.NextTokenLaws.BeliefExplained)} (rank {truth.NextTokenRank}): "
                    + $"the final layer must carry at least the next-token laws; they explain {last.NextTokenShare:F4} of its belief-explained centroid variance ({last.NextTokenShareConcatenated:F4} of all layers')");
                if (last.FactoredFinal is { } f)
                    console.Out.WriteLine($"  supporting: per-factor R^2 {string.Join(" / ", f.Factors.Select(x => x.RSquared.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}, "
                        + $"factor subspace dimensions {string.Join(" / ", f.Factors.Select(x => x.Dimension))}, mean overlap {f.MeanOffDiagonalOverlap:F4}; raw 95% PCA dimension {f.ObservedDimension95} (predictions: factored {f.FactoredDimension}, joint {f.JointDimension})");
                foreach (var (stream, d) in new[] { ("final layer", c), ("all layers concatenated", last.CentroidsConcatenated), ("true factor beliefs", truth.FactorBeliefs), ("true joint belief", truth.JointBelief) })
                    if (d.Rank is { } r)
                        console.Out.WriteLine($"  {stream}: {RankLine(r, d.RankSplit, last.FactoredFinal)}");
                if (rankErrors is { } e)
                    console.Out.WriteLine($"  rank bootstrap ({e.Replicates} replicates over {e.Units:N0} units): rank {e.Rank.Rank} (mean {e.RankMean:F2} +- {e.RankStandardError:F2})"
                        + (e.Split is { } es ? $", factored part {es.Factored.Rank} (mean {e.FactoredMean:F2} +- {e.FactoredStandardError:F2}), joint excess {es.JointExcess.Rank} (mean {e.ExcessMean:F2} +- {e.ExcessStandardError:F2}; share +- {e.ExcessShareStandardError:G2})" : ""));
                if (last.Comparison is { } m)
                    console.Out.WriteLine($"  verdict {m.Reason}" + (c.Rank is { } rank ? $"; unsplit scale-free rank {rank.Rank} of {rank.MaxRank}" : ""));
            }
            return CliApp.ExitOk;
        });
        return command;
    }

    private static JsonObject Layer(RepresentationGeometry g) => new()
    {
        ["layer"] = g.Layer,
        ["r2"] = JsonOutput.Number(g.InSample.RSquared),
        ["rmse"] = JsonOutput.Number(g.InSample.Rmse),
        ["r2_held_out"] = JsonOutput.Number(g.HeldOut.RSquared),
        ["rmse_held_out"] = JsonOutput.Number(g.HeldOut.Rmse),
        ["r2_shuffled"] = JsonOutput.Number(g.ShuffledLabels.RSquared),
        ["pca"] = Pca(g.Pca),
    };

    private static JsonObject Dimension(DimensionEstimate d) => new()
    {
        ["d80"] = d.Pca.For80,
        ["d80_stderr"] = JsonOutput.Number(d.For80StandardError),
        ["d90"] = d.Pca.For90,
        ["d90_stderr"] = JsonOutput.Number(d.For90StandardError),
        ["d95"] = d.Pca.For95,
        ["d95_stderr"] = JsonOutput.Number(d.For95StandardError),
        ["d99"] = d.Pca.For99,
        ["d99_stderr"] = JsonOutput.Number(d.For99StandardError),
        ["participation_ratio"] = JsonOutput.Number(d.Pca.ParticipationRatio),
        ["participation_ratio_stderr"] = JsonOutput.Number(d.ParticipationRatioStandardError),
        ["explained_ratio"] = JsonOutput.Array(d.Pca.ExplainedRatio.Take(32)),
    };

    private static JsonObject Centroids(CentroidDimension c, FactoredAnalysis? f, double nextTokenShare) => new()
    {
        ["groups"] = c.Groups,
        ["belief_tolerance"] = JsonOutput.Number(c.Tolerance),
        ["dimension"] = c.BeliefExplained.Pca.For95,
        ["dimension_stderr"] = JsonOutput.Number(c.BeliefExplained.For95StandardError),
        ["belief_explained"] = Dimension(c.BeliefExplained),
        ["raw"] = Dimension(c.Centroids),
        ["next_token_share"] = JsonOutput.Number(nextTokenShare),
        ["factored_dimension"] = f?.FactoredDimension,
        ["joint_dimension"] = f?.JointDimension,
        ["rank"] = c.Rank is { } r ? Rank(r) : null,
        ["rank_split"] = c.RankSplit is { } split ? Split(split) : null,
        ["bootstrap_replicates"] = c.Replicates,
        ["bootstrap_units"] = c.Units,
    };

    private static JsonObject Rank(BeliefRank r) => new()
    {
        ["rank"] = r.Rank,
        ["rank_lower"] = r.LowerRank,
        ["rank_best"] = r.BestRank,
        ["rank_max"] = r.MaxRank,
        ["drop_from_best"] = JsonOutput.Number(r.Drop),
        ["last_direction_gain"] = JsonOutput.Number(r.LastGain),
        ["r2_held_out_by_rank"] = JsonOutput.Array(r.HeldOutRSquared),
        ["drop_stderr_by_rank"] = JsonOutput.Array(r.DropStandardError),
        ["gain"] = JsonOutput.Number(r.Gain),
        ["gain_stderr"] = JsonOutput.Number(r.GainStandardError),
        ["folds"] = r.Folds,
    };

    private static JsonObject Split(BeliefRankSplit s) => new()
    {
        ["factored"] = Rank(s.Factored),
        ["joint_excess"] = Rank(s.JointExcess),
        ["excess_share"] = JsonOutput.Number(s.ExcessShare),
        ["excess_share_stderr"] = JsonOutput.Number(s.ExcessShareStandardError),
    };

    /// <summary>
    /// The scale-free rank against the factored prediction: "rank R [lower, best] of max", then for products its
    /// factored part (which "within 1 of factored" reads) and the joint excess with the held-out variance it adds.
    /// </summary>
    private static string RankLine(BeliefRank r, BeliefRankSplit? split, FactoredAnalysis? f) =>
        $"scale-free belief rank {r.Rank} (ranks {r.LowerRank}..{r.BestRank} within 2 se of the best, held-out R^2 {r.HeldOutRSquared[r.Rank]:F4}, last direction adds {r.LastGain:F4}; of {r.MaxRank})"
        + (split is null ? "" : $"; factored part {split.Factored.Rank} (ranks {split.Factored.LowerRank}..{split.Factored.BestRank}, held-out R^2 {split.Factored.HeldOutRSquared[split.Factored.Rank]:F4}), "
            + $"joint excess {split.JointExcess.Rank} adding {split.ExcessShare:G3} +- {split.ExcessShareStandardError:G2} of the variance")
        + (f is null || split is null ? "" : $"; predictions factored {f.FactoredDimension}, joint {f.JointDimension}: factored part {(BeliefModelComparison.WithinOne(split.Factored.Rank, f.FactoredDimension) ? "within" : "not within")} 1 of factored");

    private static JsonObject Comparison(ModelComparison m) => new()
    {
        ["verdict"] = m.Verdict,
        ["reason"] = m.Reason,
        ["factored_part"] = m.Split.Factored.Rank,
        ["factored_prediction"] = m.FactoredPrediction,
        ["factored_part_within_1"] = m.FactoredPartWithinOne,
        ["factored_part_gain"] = JsonOutput.Number(m.Split.Factored.Gain),
        ["factored_part_gain_stderr"] = JsonOutput.Number(m.Split.Factored.GainStandardError),
        ["joint_excess"] = m.Split.JointExcess.Rank,
        ["excess_share"] = JsonOutput.Number(m.Split.ExcessShare),
        ["excess_share_stderr"] = JsonOutput.Number(m.Split.ExcessShareStandardError),
        ["excess_share_z"] = JsonOutput.Number(m.ExcessShareZ),
        ["split_jointness"] = JsonOutput.Number(m.SplitJointness),
        ["split_jointness_stderr"] = JsonOutput.Number(m.SplitJointnessStandardError),
        ["margin"] = JsonOutput.Number(m.Margin),
        ["margin_stderr"] = JsonOutput.Number(m.MarginStandardError),
        ["margin_z"] = JsonOutput.Number(m.MarginZ),
        ["r2_factored_held_out"] = JsonOutput.Number(m.FactoredRSquared),
        ["r2_factored_held_out_stderr"] = JsonOutput.Number(m.FactoredRSquaredStandardError),
        ["r2_joint_held_out"] = JsonOutput.Number(m.JointRSquared),
        ["r2_joint_held_out_stderr"] = JsonOutput.Number(m.JointRSquaredStandardError),
        ["r2_factored_in_sample"] = JsonOutput.Number(m.FactoredInSample),
        ["r2_joint_in_sample"] = JsonOutput.Number(m.JointInSample),
        ["jointness"] = JsonOutput.Number(m.Jointness),
        ["jointness_stderr"] = JsonOutput.Number(m.JointnessStandardError),
        ["reference_share"] = JsonOutput.Number(m.ReferenceShare),
        ["factored_rank"] = m.FactoredRank,
        ["joint_rank"] = m.JointRank,
        ["folds"] = m.Folds,
    };

    private static JsonObject BeliefLinked(long tokens, BeliefGeometryReport r)
    {
        var o = new JsonObject
        {
            ["tokens"] = tokens,
            ["centroid_dimension"] = r.Centroids.BeliefExplained.Pca.For95,
            ["centroid_dimension_stderr"] = JsonOutput.Number(r.Centroids.BeliefExplained.For95StandardError),
            ["centroid_participation_ratio"] = JsonOutput.Number(r.Centroids.BeliefExplained.Pca.ParticipationRatio),
            ["centroid_participation_ratio_stderr"] = JsonOutput.Number(r.Centroids.BeliefExplained.ParticipationRatioStandardError),
            ["raw_centroid_d95"] = r.Centroids.Centroids.Pca.For95,
            ["centroid_dimension_concat"] = r.CentroidsConcatenated.BeliefExplained.Pca.For95,
            ["centroid_dimension_concat_stderr"] = JsonOutput.Number(r.CentroidsConcatenated.BeliefExplained.For95StandardError),
            ["next_token_share"] = JsonOutput.Number(r.NextTokenShare),
            ["belief_rank"] = r.Centroids.Rank?.Rank,
            ["belief_rank_lower"] = r.Centroids.Rank?.LowerRank,
            ["belief_rank_best"] = r.Centroids.Rank?.BestRank,
            ["belief_rank_concat"] = r.CentroidsConcatenated.Rank?.Rank,
            ["belief_rank_factored"] = r.Centroids.RankSplit?.Factored.Rank,
            ["belief_rank_excess"] = r.Centroids.RankSplit?.JointExcess.Rank,
            ["belief_rank_excess_share"] = r.Centroids.RankSplit is { } split ? JsonOutput.Number(split.ExcessShare) : null,
            ["belief_rank_excess_share_stderr"] = r.Centroids.RankSplit is { } s ? JsonOutput.Number(s.ExcessShareStandardError) : null,
        };
        if (r.Comparison is { } m)
        {
            o["r2_factored_held_out"] = JsonOutput.Number(m.FactoredRSquared);
            o["r2_factored_held_out_stderr"] = JsonOutput.Number(m.FactoredRSquaredStandardError);
            o["r2_joint_held_out"] = JsonOutput.Number(m.JointRSquared);
            o["r2_joint_held_out_stderr"] = JsonOutput.Number(m.JointRSquaredStandardError);
            o["margin"] = JsonOutput.Number(m.Margin);
            o["margin_stderr"] = JsonOutput.Number(m.MarginStandardError);
            o["jointness"] = JsonOutput.Number(m.Jointness);
            o["jointness_stderr"] = JsonOutput.Number(m.JointnessStandardError);
        }
        return o;
    }

    private static JsonObject Pca(PcaSummary p) => new()
    {
        ["d80"] = p.For80,
        ["d90"] = p.For90,
        ["d95"] = p.For95,
        ["d99"] = p.For99,
        ["participation_ratio"] = JsonOutput.Number(p.ParticipationRatio),
        ["effective_rank"] = JsonOutput.Number(p.EffectiveRank),
        ["explained_ratio"] = JsonOutput.Array(p.ExplainedRatio.Take(32)),
    };

    private static JsonObject Factored(FactoredAnalysis f)
    {
        int n = f.Factors.Count;
        var overlaps = new JsonArray();
        for (int i = 0; i < n; i++) overlaps.Add(JsonOutput.Array(Enumerable.Range(0, n).Select(j => f.Overlaps[i, j])));
        return new JsonObject
        {
            ["factor_r2"] = JsonOutput.Array(f.Factors.Select(x => x.RSquared)),
            ["factor_dimensions"] = new JsonArray(f.Factors.Select(x => (JsonNode?)x.Dimension).ToArray()),
            ["overlaps"] = overlaps,
            ["mean_overlap"] = JsonOutput.Number(f.MeanOffDiagonalOverlap),
            ["observed_dimension_95"] = f.ObservedDimension95,
            ["factored_dimension"] = f.FactoredDimension,
            ["joint_dimension"] = f.JointDimension,
            ["joint_belief_rank"] = f.JointBeliefRank,
        };
    }
}
