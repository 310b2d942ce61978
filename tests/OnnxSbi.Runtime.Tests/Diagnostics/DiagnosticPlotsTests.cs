using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Diagnostics;
using OnnxSbi.Diagnostics.Plots;
using SkiaSharp;

namespace OnnxSbi.Runtime.Tests.Diagnostics;

public sealed class DiagnosticPlotsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-plots-").FullName;
    private readonly DiagnosticsReport report;

    public DiagnosticPlotsTests()
    {
        using var model = PosteriorModel.Load(ConjugateGaussian.WriteBundle(dir));
        report = PosteriorDiagnostics.Run(model, ConjugateGaussian.CreateSimulator(0), new DiagnosticsOptions { NumDatasets = 100, NumDraws = 50, Seed = 2 });
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static TheoryData<string> GridPlots => ["recovery", "calibration_ecdf", "z_score_contraction", "coverage"];

    [Theory]
    [MemberData(nameof(GridPlots))]
    public void GridPlot_TwoParameters_IsTwoPanelsWideAndHasContent(string name)
    {
        string path = Path.Combine(dir, name + ".png");
        Action<DiagnosticsReport, string> draw = name switch
        {
            "recovery" => DiagnosticPlots.Recovery,
            "calibration_ecdf" => DiagnosticPlots.CalibrationEcdf,
            "z_score_contraction" => DiagnosticPlots.ZScoreContraction,
            _ => DiagnosticPlots.Coverage,
        };
        draw(report, path);
        AssertPng(path, 2 * DiagnosticPlots.PanelWidth, DiagnosticPlots.PanelHeight);
    }

    [Fact]
    public void Pairs_TwoParameters_IsTwoByTwoCells()
    {
        string path = Path.Combine(dir, "pairs.png");
        DiagnosticPlots.Pairs(report, 3, path);
        AssertPng(path, 2 * DiagnosticPlots.PairsCell, 2 * DiagnosticPlots.PairsCell);
    }

    [Fact]
    public void Pairs_ObservationOutOfRange_IsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DiagnosticPlots.Pairs(report, 100, Path.Combine(dir, "pairs.png")));
        Assert.Contains("[0, 99]", e.Message);
    }

    [Fact]
    public void LossHistory_WithLosses_IsDrawn_WithoutLosses_IsSkipped()
    {
        var training = new TrainingSummary("offline", 3, 30, 1.0, 640, 1, [3.0, 2.0, 1.5], [2.8, 2.1, 1.9], "{}");
        string path = Path.Combine(dir, "loss.png");
        Assert.True(DiagnosticPlots.LossHistory(training, path));
        var (w, h) = DiagnosticPlots.GridSize(2);
        AssertPng(path, w, h);
        string none = Path.Combine(dir, "none.png");
        Assert.False(DiagnosticPlots.LossHistory(new TrainingSummary("offline", 0, 0, 0, 0, 1, [], [], "{}"), none));
        Assert.False(DiagnosticPlots.LossHistory(null, none));
        Assert.False(File.Exists(none));
    }

    [Theory]
    [InlineData(1, 440, 400)]
    [InlineData(4, 1760, 400)]
    [InlineData(5, 1760, 800)]
    public void GridSize_WrapsAfterFourPanels(int panels, int width, int height)
        => Assert.Equal((width, height), DiagnosticPlots.GridSize(panels));

    /// <summary>A PNG of the given size that is neither blank nor a single colour: drawn axes, text and data.</summary>
    private static void AssertPng(string path, int width, int height)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.Equal(width, bitmap.Width);
        Assert.Equal(height, bitmap.Height);
        int inked = 0;
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 2)
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                colours.Add((uint)c);
                if (c.Red < 200 || c.Green < 200 || c.Blue < 200) inked++;
            }
        // Axes, tick labels and data cover a few percent of a figure; an empty or failed render is
        // one background colour. Anti-aliased text and translucent markers give dozens of colours.
        double fraction = (double)inked / (bitmap.Width * bitmap.Height / 4);
        Assert.True(fraction > 0.01, $"{Path.GetFileName(path)}: only {fraction:P2} of pixels are drawn on");
        Assert.True(colours.Count > 20, $"{Path.GetFileName(path)}: {colours.Count} distinct colours");
    }
}
