using System.Reflection;

namespace OnnxSbi.TestSupport;

/// <summary>Paths inside the repository checkout that the tests run from.</summary>
public static class Repository
{
    /// <summary>The directory holding OnnxSbi.sln, above the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A bundle shipped in models/two_moons, e.g. "affine_coupling_flow".</summary>
    public static string ShippedBundle(string name) => Path.Combine(Root, "models", "two_moons", name + ".onnxsbi");

    /// <summary>
    /// The built <c>ASSEMBLY.dll</c> of the program in <paramref name="projectDirectory"/> (relative to the repository
    /// root), in the configuration and target framework of the running tests. The test project references the
    /// program's project (with ReferenceOutputAssembly=false where it needs only the build), so it is built first;
    /// <paramref name="testProject"/> names that test project in the error when it was not.
    /// </summary>
    public static string BuiltProgram(string projectDirectory, string assemblyName, string testProject)
    {
        // This library is built with the test project that references it, so it carries the same configuration.
        string config = typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string tfm = Path.GetFileName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string dll = Path.Combine(Root, projectDirectory, "bin", config, tfm, assemblyName + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException(
            $"{assemblyName} was not built at '{dll}'; build {testProject} (it references the program's project).", dll);
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "OnnxSbi.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"No OnnxSbi.sln above '{AppContext.BaseDirectory}'.");
    }
}
