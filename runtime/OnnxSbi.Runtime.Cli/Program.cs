using System.Diagnostics;
using System.Globalization;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Cli;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Commands.Usage);
    return args.Length == 0 ? 2 : 0;
}
try
{
    return Commands.Run(args[0], args.Skip(1).ToArray(), cts.Token);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (OnnxSbiException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
catch (IOException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
catch (UnauthorizedAccessException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
