using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OnnxSbi.Runtime;
using OnnxSbi.Trainer.Host;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Verbs.Usage);
    return args.Length == 0 ? 2 : 0;
}

string verb = args[0];
string[] rest = args.Skip(1).ToArray();
try
{
    var parsed = Verbs.Parse(verb, rest);
    // No default sources: only the ones below, so every configuration key can be checked against the verb's options.
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
    // Configuration: built-in defaults < --config JSON file < environment (ONNXSBI_*) < command line.
    if (parsed.ConfigFile is not null)
    {
        if (!File.Exists(parsed.ConfigFile)) throw new UsageException($"--config file '{parsed.ConfigFile}' does not exist.");
        builder.Configuration.AddJsonFile(Path.GetFullPath(parsed.ConfigFile), optional: false);
    }
    builder.Configuration.AddEnvironmentVariables("ONNXSBI_");
    builder.Configuration.AddInMemoryCollection(parsed.Values!);
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
    builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
    builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
    using var host = builder.Build();
    await host.StartAsync();
    var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
    var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("onnxsbi-train");
    int code;
    try
    {
        code = Verbs.Run(verb, parsed.Switches, host.Services.GetRequiredService<IConfiguration>(), logger, lifetime.ApplicationStopping);
    }
    catch (OperationCanceledException)
    {
        logger.LogWarning("Stopped by a signal; the checkpoint of the last completed epoch is kept. Rerun with --resume to continue.");
        code = 130;
    }
    lifetime.StopApplication();
    await host.StopAsync();
    return code;
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
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
