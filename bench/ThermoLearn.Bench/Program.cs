// Benchmarks: `dotnet run -c Release --project bench/ThermoLearn.Bench -- <name>`; each harness prints
// its throughput and the ratio to a reference measured in the same run.
Console.Error.WriteLine("usage: ThermoLearn.Bench <benchmark>");
return 2;
