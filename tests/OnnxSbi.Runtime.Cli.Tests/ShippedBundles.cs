namespace OnnxSbi.Runtime.Cli.Tests;

/// <summary>The bundles shipped in models/two_moons, found from the test's output directory.</summary>
internal static class ShippedBundles
{
    public static string Path(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "OnnxSbi.sln"))) return System.IO.Path.Combine(d.FullName, "models", "two_moons", name + ".onnxsbi");
        throw new DirectoryNotFoundException($"No OnnxSbi.sln above {AppContext.BaseDirectory}.");
    }
}
