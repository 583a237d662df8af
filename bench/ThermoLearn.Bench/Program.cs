// Benchmarks: `dotnet run -c Release --project bench/ThermoLearn.Bench -- <name>`; each harness prints
// its throughput and the ratio to a reference measured in the same run. One line per harness below.
using ThermoLearn.Bench;

var harnesses = new Dictionary<string, Func<string[], int>>(StringComparer.OrdinalIgnoreCase)
{
    ["processes"] = ProcessesBench.Run,
    ["io"] = IoBench.Run,
    ["transformer"] = TransformerBench.Run,
    ["estimate"] = EstimateBench.Run,
    // The child process in which `io` measures one read's peak memory.
    ["io-read-peak"] = a => IoBench.ReadPeakChild(a[0]),
    ["optimize-erase"] = OptimizeEraseBench.Run,
    ["doublewell"] = DoubleWellBenchmark.Run,
    ["simulate-cli"] = SimulateCliBench.Run,
    ["neural-epoch"] = NeuralEpochBench.Run,
    ["stream"] = StreamBench.Run,
    // The child process in which `stream` estimates under a heap limit.
    ["stream-child"] = StreamBench.ChildMain,
    ["pair"] = PairBench.Run,
    ["lag-filters"] = LagFilterBench.Run,
};

if (args.Length == 0 || !harnesses.TryGetValue(args[0], out var harness))
{
    Console.Error.WriteLine($"usage: ThermoLearn.Bench <benchmark>; benchmarks: {string.Join(", ", harnesses.Keys)}");
    return 2;
}
return harness(args[1..]);
