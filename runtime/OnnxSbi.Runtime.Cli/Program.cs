using OnnxSbi.Runtime.Cli;

ProgramCulture.UseInvariant();

// Ctrl+C and SIGTERM cancel the verb, which stops at its next chunk and exits with ExitCodes.Cancelled.
using var signals = new SignalCancellation();

return OnnxsbiCli.Run(args, CliConsole.System, signals.Token);
