namespace OnnxSbi.Trainer.Tests.Reliability;

/// <summary>
/// The real onnxsbi-train host rejects bad command lines at start-up, before any training, with exit
/// code 2 and an error on stderr that names the option and the valid choices or range.
/// </summary>
public sealed class BadConfigurationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-badcfg-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData(new[] { "train", "--task", "two_moons", "--network", "flow_matching", "--out", "m.onnxsbi", "--epoch", "3" },
        new[] { "unknown option '--epoch'", "--epochs", "--batches-per-epoch" })]
    [InlineData(new[] { "train", "--task", "two_moons", "--network", "flow_matching", "--out", "m.onnxsbi", "--epochs", "-1" },
        new[] { "--epochs must be an integer in [1, 100000]", "'-1'" })]
    [InlineData(new[] { "train", "--task", "two_moons", "--network", "flow_matching", "--out", "m.onnxsbi", "--batch-size", "0" },
        new[] { "--batch-size must be an integer in [1, 1048576]", "'0'" })]
    [InlineData(new[] { "train", "--task", "two_moons", "--network", "flow_matching", "--out", "m.onnxsbi", "--widths", "," },
        new[] { "--widths must list at least one width" })]
    [InlineData(new[] { "train", "--task", "two_moons", "--network", "flow_matching", "--out", "m.onnxsbi", "--widths", "8,-2" },
        new[] { "widths must be positive integers", "'-2'" })]
    [InlineData(new[] { "train", "--task", "gaussian_quadratic", "--network", "flow_matching", "--out", "m.onnxsbi" },
        new[] { "Unknown task 'gaussian_quadratic'", "Valid tasks: two_moons" })]
    [InlineData(new[] { "train", "--task", "two_moons", "--network", "real_nvp", "--out", "m.onnxsbi" },
        new[] { "Unknown network 'real_nvp'", "flow_matching", "consistency_model", "affine_coupling_flow", "spline_coupling_flow" })]
    [InlineData(new[] { "fit", "--task", "two_moons" },
        new[] { "Unknown verb 'fit'", "Valid verbs: train" })]
    [InlineData(new[] { "train", "--task", "two_moons", "--network", "flow_matching" },
        new[] { "missing required option '--out" })]
    [InlineData(new[] { "train", "--task", "two_moons", "--network", "flow_matching", "--out", "m.onnxsbi", "--learning-rate", "NaN" },
        new[] { "--learning-rate must be a number in", "'NaN'" })]
    public void Host_BadCommandLine_ExitsWith2NamingTheProblem(string[] args, string[] expected)
    {
        var (code, stdout, stderr) = TrainerHost.Run(dir, TimeSpan.FromMinutes(1), args);

        Assert.True(code == 2, $"exit code {code}\n{stdout}{stderr}");
        foreach (string text in expected) Assert.Contains(text, stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }
}
