using SharpFuzz;
using ThermoLearn.Fuzz;

// afl++ harness: `thermolearn-fuzz TARGET` reads one input per run from afl's stdin/shared memory (SharpFuzz's
// out-of-process mode), and `thermolearn-fuzz TARGET FILE...` replays files (for reproducing a crash by hand).
if (args.Length < 1 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: thermolearn-fuzz TARGET [FILE...]; targets: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}
string target = args[0];
string folder = Directory.CreateTempSubdirectory("thermolearn-fuzz-").FullName;
try
{
    if (args.Length > 1)
    {
        foreach (string file in args.Skip(1)) FuzzTargets.Run(target, File.ReadAllBytes(file), folder);
        return 0;
    }
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        FuzzTargets.Run(target, memory.ToArray(), folder);
    });
    return 0;
}
finally
{
    try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
}
