using System.Text;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Integrators;

namespace OnnxSbi.Runtime.Tests.Sampling;

/// <summary>
/// The flow matching integrator is an <see cref="IntegratorKind"/> on <see cref="SamplingOptions.Method"/>; the
/// bundle's default is its manifest's text, checked when the bundle is read.
/// </summary>
public sealed class IntegrationMethodOptionTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private static ArrayBatch X => new ArrayBatch(1).Set("x", [0.5, -0.5], 2);

    [Fact]
    public void Sample_WithoutAMethod_RunsTheManifestDefault()
    {
        // The Gaussian bundle records rk4; naming it gives the same draws, naming euler other ones.
        using var model = PosteriorModel.Load(GaussianBundles.Write(dir.Path, NetworkFamily.FlowMatching));
        double[] byDefault = model.Sample(X, 50, new SamplingOptions { Seed = 4, Steps = 10 })["theta"];
        double[] rk4 = model.Sample(X, 50, new SamplingOptions { Seed = 4, Steps = 10, Method = IntegratorKind.Rk4 })["theta"];
        double[] euler = model.Sample(X, 50, new SamplingOptions { Seed = 4, Steps = 10, Method = IntegratorKind.Euler })["theta"];
        Assert.Equal(rk4, byDefault);
        Assert.NotEqual(euler, byDefault);
    }

    [Fact]
    public void Sample_WithAnUndefinedMethodValue_IsRefusedListingTheMethods()
    {
        using var model = PosteriorModel.Load(GaussianBundles.Write(dir.Path, NetworkFamily.FlowMatching));
        var e = Assert.Throws<InvalidRequestException>(() => model.Sample(X, 10, new SamplingOptions { Method = (IntegratorKind)42 }));
        Assert.Contains("SamplingOptions.Method 42", e.Message, StringComparison.Ordinal);
        Assert.Contains(IntegratorKinds.ValidNames, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ManifestDefaultMethodUnknown_IsRefusedNamingTheFileAndTheMethod()
    {
        string path = TestBundles.WriteGood(dir.File("fm.onnxsbi"));
        TestBundles.EditEntries(path, entries =>
        {
            int i = entries.FindIndex(x => x.Name == "manifest.json");
            string json = Encoding.UTF8.GetString(entries[i].Data).Replace("\"defaultMethod\": \"rk4\"", "\"defaultMethod\": \"heun\"", StringComparison.Ordinal);
            Assert.Contains("heun", json, StringComparison.Ordinal);
            entries[i] = ("manifest.json", Encoding.UTF8.GetBytes(json));
        });
        var e = Assert.Throws<BundleFormatException>(() => BundleReader.Read(path));
        Assert.Contains(Path.GetFullPath(path), e.Message, StringComparison.Ordinal);
        Assert.Contains("default_method is 'heun'", e.Message, StringComparison.Ordinal);
    }
}
