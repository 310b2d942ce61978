using System.Globalization;
using OnnxSbi.Simulations.Formats;
using OnnxSbi.Tasks;

namespace OnnxSbi.Bench.Tests;

/// <summary><c>onnxsbi-bench c2st --reference FILE</c>: a bundle scored against reference posteriors held in .npz files, run as a child process.</summary>
public sealed class C2stReferenceFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-c2st-ref-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Model => Repository.ShippedBundle("spline_coupling_flow");

    private string Write(string name, params (string Name, double[] Data, long[] Shape)[] arrays)
    {
        string path = Path.Combine(dir, name);
        using var file = File.Create(path);
        NpzArchive.Write(file, arrays.Select(a => KeyValuePair.Create(a.Name, new NpyArray(a.Data, a.Shape))));
        return path;
    }

    /// <summary>2,000 draws of the two-moons reference posterior at x = (0, 0), shifted by <paramref name="shift"/>.</summary>
    private string TwoMoonsReference(string name, double shift, long[]? observationShape = null)
    {
        double[] theta = TaskCatalog.Get("two_moons").SampleReferencePosterior([0, 0], 2000, seed: 7);
        for (int i = 0; i < theta.Length; i++) theta[i] += shift;
        return Write(name, ("x", [0, 0], observationShape ?? [1, 2]), ("theta", theta, [2000, 2]));
    }

    [Fact]
    public void C2stReference_TaskPosteriorAndAShiftedOne_ScoreNearHalfAndNearOne()
    {
        string good = TwoMoonsReference("good.npz", 0);
        string shifted = TwoMoonsReference("shifted.npz", 0.5, observationShape: [2]);
        string output = Path.Combine(dir, "scores.csv");

        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(5),
            "c2st", "--model", Model, "--reference", good, "--reference", shifted, "--seed", "3", "--out", output);

        Assert.True(code == 0, stdout + stderr);
        string[] lines = File.ReadAllLines(output);
        Assert.Equal("reference,draws,c2st", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"{good},2000,", lines[1]);
        double[] scores = [.. lines.Skip(1).Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture))];
        // The same bound as the task path (C2stCommandTests): the shipped spline flow scores 0.52 at x = (0, 0), and
        // 2,000 draws per side add sd ≈ 0.01, so 0.65 passes it and fails a wrong observation or variable order.
        Assert.InRange(scores[0], 0.4, 0.65);
        // Shifting the reference by 0.5 in both coordinates moves it off the crescent (width about 0.1): separable.
        Assert.InRange(scores[1], 0.9, 1.0);
        Assert.Contains("mean C2ST over 2 reference file(s):", stdout);
    }

    [Fact]
    public void C2stReference_MissingVariable_ExitsWith3NamingTheFileAndTheVariable()
    {
        string path = Write("renamed.npz", ("obs", [0, 0], [1, 2]), ("theta", new double[20], [10, 2]));

        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), "c2st", "--model", Model, "--reference", path);

        Assert.True(code == 3, stdout + stderr);
        Assert.Contains($"{path}: no array 'x', the bundle's condition variable (the observation, shape (1, 2)); the file holds arrays 'obs' (1, 2), 'theta' (10, 2).", stderr);
    }

    [Fact]
    public void C2stReference_WrongDrawShape_ExitsWith3NamingBothShapes()
    {
        string path = Write("wide.npz", ("x", [0, 0], [1, 2]), ("theta", new double[30], [10, 3]));

        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), "c2st", "--model", Model, "--reference", path);

        Assert.True(code == 3, stdout + stderr);
        Assert.Contains("array 'theta' (reference draws) has shape (10, 3); the bundle expects (draws, 2).", stderr);
    }

    [Fact]
    public void C2stReference_WithTaskOrTooManyDraws_IsAUsageError()
    {
        string path = Write("small.npz", ("x", [0, 0], [1, 2]), ("theta", new double[200], [100, 2]));

        var withTask = BenchHost.Run(dir, TimeSpan.FromMinutes(1), "c2st", "--model", Model, "--reference", path, "--task", "two_moons");
        var tooMany = BenchHost.Run(dir, TimeSpan.FromMinutes(1), "c2st", "--model", Model, "--reference", path, "--draws", "500");

        Assert.True(withTask.ExitCode == 2, withTask.StdOut + withTask.StdErr);
        Assert.Contains("--task chooses a task's reference posterior; it cannot be combined with --reference", withTask.StdErr);
        Assert.True(tooMany.ExitCode == 2, tooMany.StdOut + tooMany.StdErr);
        Assert.Contains($"--draws 500 exceeds the 100 reference draws in '{path}'", tooMany.StdErr);
    }
}
