using ThermoLearn.Cli;
using ThermoLearn.Cli.Infrastructure;

Interruption.Install(CliConsole.System);
return CliApp.Run(args, CliConsole.System);
