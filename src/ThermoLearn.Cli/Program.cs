using ThermoLearn.Cli;
using ThermoLearn.Cli.Infrastructure;

return CliApp.Run(args, CliConsole.System);
