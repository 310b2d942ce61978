using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace OnnxSbi.Runtime.Tests;

/// <summary>
/// Runs this assembly's facts and theories without the .NET SDK: <c>dotnet OnnxSbi.Runtime.Tests.dll FILTER…</c>
/// runs the tests of every class whose full name contains one of the filters (all classes when none is
/// given). It exists for machines that have the .NET runtime but no SDK, such as a lent GPU machine
/// (bench/gpu/README.md); everywhere else <c>dotnet test</c> is the runner. Each test gets a fresh
/// instance, a console <see cref="ITestOutputHelper"/> where its constructor asks for one, and
/// <see cref="IDisposable.Dispose"/> afterwards, as xunit does; a fact's <c>Skip</c> is honoured.
/// Exit code: 0 when every test passed or was skipped, 1 when one failed, 2 when no test matched.
/// </summary>
public static class DeviceRunner
{
    public static int Main(string[] args)
    {
        var types = typeof(DeviceRunner).Assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && (args.Length == 0 || args.Any(f => t.FullName!.Contains(f, StringComparison.Ordinal))))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);
        int passed = 0, failed = 0, skipped = 0;
        foreach (var type in types)
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).OrderBy(m => m.MetadataToken))
            {
                var fact = method.GetCustomAttribute<FactAttribute>();
                if (fact is null) continue;
                string name = $"{type.Name}.{method.Name}";
                if (fact.Skip is string why)
                {
                    Console.WriteLine($"SKIP {name}: {why}");
                    skipped++;
                    continue;
                }
                var rows = fact is TheoryAttribute
                    ? method.GetCustomAttributes<DataAttribute>().SelectMany(d => d.GetData(method)).ToList()
                    : [Array.Empty<object?>()];
                foreach (var row in rows)
                {
                    string label = row.Length == 0 ? name : $"{name}({string.Join(", ", row.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))})";
                    var clock = Stopwatch.StartNew();
                    string? error = Run(type, method, row);
                    if (error is null) passed++;
                    else failed++;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(error is null ? "PASS" : "FAIL")} {label} [{clock.Elapsed.TotalSeconds:F2} s]{(error is null ? "" : "\n     " + error.Replace("\n", "\n     "))}"));
                }
            }
        Console.WriteLine($"passed {passed}, failed {failed}, skipped {skipped}");
        return failed > 0 ? 1 : passed + skipped == 0 ? 2 : 0;
    }

    private static string? Run(Type type, MethodInfo method, object?[] row)
    {
        object? instance = null;
        try
        {
            var ctor = type.GetConstructors().OrderBy(c => c.GetParameters().Length).First();
            instance = ctor.Invoke(ctor.GetParameters().Select(p => p.ParameterType == typeof(ITestOutputHelper) ? new ConsoleOutput() : (object?)null).ToArray());
            var parameters = method.GetParameters();
            // xunit's conversions of inline data that this runner needs: numbers to a wider or nullable type.
            var arguments = row.Select((v, i) =>
            {
                var target = i < parameters.Length ? Nullable.GetUnderlyingType(parameters[i].ParameterType) ?? parameters[i].ParameterType : null;
                return v is IConvertible && target is not null && v.GetType() != target && !target.IsEnum ? Convert.ChangeType(v, target, CultureInfo.InvariantCulture) : v;
            }).ToArray();
            var result = method.Invoke(instance, arguments);
            if (result is Task task) task.GetAwaiter().GetResult();
            return null;
        }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
            return $"{inner.GetType().Name}: {inner.Message}";
        }
        finally
        {
            (instance as IDisposable)?.Dispose();
        }
    }

    private sealed class ConsoleOutput : ITestOutputHelper
    {
        public void WriteLine(string message) => Console.WriteLine("     | " + message);

        public void WriteLine(string format, params object[] args) => WriteLine(string.Format(CultureInfo.InvariantCulture, format, args));
    }
}
