using System.Globalization;
using System.Runtime.InteropServices;
using OnnxSbi.Runtime.Cli;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
// The parser's own messages in English, like every message of ours, whatever the machine's language.
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

// Ctrl+C and SIGTERM cancel the verb, which stops at its next chunk and exits with ExitCodes.Cancelled.
using var cts = new CancellationTokenSource();
void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    cts.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);

return OnnxsbiCli.Run(args, CliConsole.System, cts.Token);
