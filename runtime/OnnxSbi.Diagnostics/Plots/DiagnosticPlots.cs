using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Diagnostics;
using ScottPlot;

namespace OnnxSbi.Diagnostics.Plots;

/// <summary>
/// PNG figures of a <see cref="DiagnosticsReport"/> in the spirit of BayesFlow's
/// <c>plot_default_diagnostics</c>: one panel per parameter for recovery, the rank ECDF with its
/// simultaneous band, z-score against contraction and coverage; plus the loss history and a pairs plot
/// of one posterior. Every file is written atomically.
/// </summary>
internal static class DiagnosticPlots
{
    public const int PanelWidth = 440;
    public const int PanelHeight = 400;
    public const int MaxColumns = 4;
    public const int PairsCell = 300;
    public const int MaxPairsParameters = 8;

    private static readonly Color Blue = new(31, 119, 180);
    private static readonly Color Orange = new(255, 127, 14);
    private static readonly Color Red = new(214, 39, 40);
    private static readonly Color Gray = new(90, 90, 90);

    // DejaVu Sans ships with most Linux images and covers θ, ², χ; without it ScottPlot keeps its default.
    private static readonly string? SansFont =
        Fonts.GetTypeface("DejaVu Sans", false, false)?.FamilyName == "DejaVu Sans" ? "DejaVu Sans" : null;

    /// <summary>Image size of a grid of <paramref name="panels"/> panels: up to four per row.</summary>
    public static (int Width, int Height) GridSize(int panels)
    {
        int columns = Math.Min(panels, MaxColumns);
        int rows = (panels + columns - 1) / columns;
        return (columns * PanelWidth, rows * PanelHeight);
    }

    /// <summary>Image size of the pairs plot for <paramref name="parameters"/> parameters (at most <see cref="MaxPairsParameters"/> are drawn).</summary>
    public static (int Width, int Height) PairsSize(int parameters)
    {
        int d = Math.Min(parameters, MaxPairsParameters);
        return (d * PairsCell, d * PairsCell);
    }

    /// <summary>Posterior median with its central 90% interval against the truth, with R², per parameter.</summary>
    public static void Recovery(DiagnosticsReport report, string path)
    {
        var panels = report.Parameters.Select(p =>
        {
            var plot = Panel(p.Name, "Ground truth", "Posterior median");
            int n = p.Truth.Length;
            var below = new double[n];
            var above = new double[n];
            for (int i = 0; i < n; i++)
            {
                below[i] = p.PosteriorMedian[i] - p.Quantile05[i];
                above[i] = p.Quantile95[i] - p.PosteriorMedian[i];
            }
            var bars = new ScottPlot.Plottables.ErrorBar(p.Truth, p.PosteriorMedian, null, null, above, below)
            {
                LineColor = Blue.WithAlpha(0.25),
                CapSize = 0,
                LineWidth = 1,
            };
            plot.PlottableList.Add(bars);
            var points = plot.Add.ScatterPoints(p.Truth, p.PosteriorMedian, Blue.WithAlpha(0.8));
            points.MarkerSize = 4;
            // One range for both axes, so the identity line is the diagonal of a square data area.
            double lo = Math.Min(p.Truth.Min(), p.Quantile05.Min()), hi = Math.Max(p.Truth.Max(), p.Quantile95.Max());
            double pad = 0.03 * (hi > lo ? hi - lo : 1);
            var diagonal = plot.Add.Line(lo - pad, lo - pad, hi + pad, hi + pad);
            diagonal.LineColor = Gray;
            diagonal.LinePattern = LinePattern.Dashed;
            diagonal.LineWidth = 1.5f;
            plot.Axes.SetLimits(lo - pad, hi + pad, lo - pad, hi + pad);
            Note(plot, $"R² = {p.RSquared:F3}\nNRMSE = {p.Nrmse:F3}\nbars: central 90%", Alignment.UpperLeft);
            return plot;
        }).ToList();
        SaveGrid(panels, path);
    }

    /// <summary>ECDF of the fractional ranks minus the uniform CDF, inside the simultaneous band (Säilynoja et al. 2022).</summary>
    public static void CalibrationEcdf(DiagnosticsReport report, string path)
    {
        var band = report.Band;
        int k = band.Points.Count;
        // The curve and the band are pinned at 0 at both ends (F̂(0) = 0, F̂(1) = 1), so the end points close them.
        var z = new double[k + 2];
        var lower = new double[k + 2];
        var upper = new double[k + 2];
        z[^1] = 1;
        for (int i = 0; i < k; i++)
        {
            z[i + 1] = band.Points[i];
            lower[i + 1] = band.Lower[i] - band.Points[i];
            upper[i + 1] = band.Upper[i] - band.Points[i];
        }
        double extent = Math.Max(upper.Max(), -lower.Min());
        foreach (var p in report.Parameters) extent = Math.Max(extent, p.EcdfDifference.Max(Math.Abs));
        var panels = report.Parameters.Select(p =>
        {
            var plot = Panel($"{p.Name} — {(p.WithinBand ? "inside" : "OUTSIDE")} band", "Fractional rank statistic", "ECDF difference");
            var fill = plot.Add.FillY(z, upper, lower);
            fill.FillColor = Gray.WithAlpha(0.2);
            fill.LineWidth = 0;
            fill.LegendText = $"{Percent(band.Confidence)} simultaneous band";
            var zero = plot.Add.HorizontalLine(0, 1, Gray, LinePattern.Dotted);
            zero.LegendText = "";
            var diff = new double[k + 2];
            for (int i = 0; i < k; i++) diff[i + 1] = p.EcdfDifference[i];
            var curve = plot.Add.ScatterLine(z, diff, p.WithinBand ? Blue : Red);
            curve.LineWidth = 2;
            curve.LegendText = "rank ECDF − uniform";
            plot.Axes.SetLimits(0, 1, -1.15 * extent, 1.15 * extent);
            plot.ShowLegend(Alignment.LowerCenter);
            Note(plot, p.ChiSquarePValue > 0 ? $"χ² p = {p.ChiSquarePValue:G3}" : "χ² p < 1e-300", Alignment.UpperRight);
            return plot;
        }).ToList();
        SaveGrid(panels, path);
    }

    /// <summary>Posterior z-score against posterior contraction per dataset (Schad et al. 2021; BayesFlow).</summary>
    public static void ZScoreContraction(DiagnosticsReport report, string path)
    {
        var panels = report.Parameters.Select(p =>
        {
            var plot = Panel(p.Name, "Posterior contraction", "Posterior z-score");
            var points = plot.Add.ScatterPoints(p.Contraction, p.ZScore, Blue.WithAlpha(0.6));
            points.MarkerSize = 4;
            foreach (double level in new[] { -2.0, 2.0 })
                plot.Add.HorizontalLine(level, 1, Gray, LinePattern.Dashed);
            plot.Add.HorizontalLine(0, 1, Gray, LinePattern.Dotted);
            double zMax = Math.Max(3.5, Math.Min(10, FiniteAbsMax(p.ZScore) * 1.1));
            double cMin = Math.Min(-0.05, Math.Max(-1, FiniteMin(p.Contraction) - 0.05));
            plot.Axes.SetLimits(cMin, 1.05, -zMax, zMax);
            Note(plot, $"mean z = {p.MeanZScore:F2}, sd z = {p.ZScoreSd:F2}\nmean contraction = {p.MeanContraction:F3}", Alignment.LowerLeft);
            return plot;
        }).ToList();
        SaveGrid(panels, path);
    }

    /// <summary>Empirical against nominal coverage of central intervals, with a pointwise binomial 95% region.</summary>
    public static void Coverage(DiagnosticsReport report, string path)
    {
        int n = report.NumDatasets;
        var levels = report.CoverageLevels.ToArray();
        var grid = Enumerable.Range(0, 101).Select(i => i / 100.0).ToArray();
        // Pointwise 95% region of the empirical coverage of a calibrated posterior: α ± 1.96·√(α(1−α)/N).
        var lo = grid.Select(a => Math.Max(0, a - 1.96 * Math.Sqrt(a * (1 - a) / n))).ToArray();
        var hi = grid.Select(a => Math.Min(1, a + 1.96 * Math.Sqrt(a * (1 - a) / n))).ToArray();
        var panels = report.Parameters.Select(p =>
        {
            var plot = Panel(p.Name, "Nominal coverage", "Empirical coverage");
            var fill = plot.Add.FillY(grid, hi, lo);
            fill.FillColor = Gray.WithAlpha(0.2);
            fill.LineWidth = 0;
            fill.LegendText = "95% binomial region";
            var diagonal = plot.Add.Line(0, 0, 1, 1);
            diagonal.LineColor = Gray;
            diagonal.LinePattern = LinePattern.Dashed;
            var curve = plot.Add.Scatter(levels, p.Coverage, Orange);
            curve.LineWidth = 2;
            curve.MarkerSize = 5;
            curve.LegendText = "central intervals";
            plot.Axes.SetLimits(0, 1, 0, 1);
            plot.ShowLegend(Alignment.LowerRight);
            Note(plot, $"calibration error = {p.CalibrationError:F3}\n50/80/95%: {p.Coverage50:F2} / {p.Coverage80:F2} / {p.Coverage95:F2}", Alignment.UpperLeft);
            return plot;
        }).ToList();
        SaveGrid(panels, path);
    }

    /// <summary>Training and validation loss per epoch, from the bundle's training record; false when the record has no losses.</summary>
    public static bool LossHistory(TrainingSummary? training, string path)
    {
        if (training is null || training.Loss.Count == 0) return false;
        var plot = Panel("Loss history", "Epoch", "Loss");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        var epochs = Enumerable.Range(1, training.Loss.Count).Select(e => (double)e).ToArray();
        var loss = plot.Add.Scatter(epochs, training.Loss.ToArray(), Blue);
        loss.LineWidth = 2;
        loss.MarkerSize = training.Loss.Count <= 60 ? 5 : 0;
        loss.LegendText = "training";
        if (training.ValidationLoss.Count > 0)
        {
            var valEpochs = Enumerable.Range(1, training.ValidationLoss.Count).Select(e => (double)e * training.Loss.Count / training.ValidationLoss.Count).ToArray();
            var val = plot.Add.Scatter(valEpochs, training.ValidationLoss.ToArray(), Orange);
            val.LineWidth = 2;
            val.LinePattern = LinePattern.Dashed;
            val.MarkerSize = training.ValidationLoss.Count <= 60 ? 5 : 0;
            val.LegendText = "validation";
        }
        plot.ShowLegend(Alignment.UpperRight);
        var (w, h) = GridSize(2);
        Save(plot.GetImageBytes(w, h, ImageFormat.Png), path);
        return true;
    }

    /// <summary>
    /// Pairs plot of the posterior draws of dataset <paramref name="dataset"/>: histograms on the
    /// diagonal, draws of each pair below it, the true value marked in red. The first
    /// <see cref="MaxPairsParameters"/> parameters are drawn.
    /// </summary>
    public static void Pairs(DiagnosticsReport report, int dataset, string path)
    {
        if ((uint)dataset >= (uint)report.NumDatasets)
            throw new ArgumentOutOfRangeException(nameof(dataset), dataset, $"The pairs plot's dataset must be in [0, {report.NumDatasets - 1}]; got {dataset}.");
        var parameters = report.Parameters.Take(MaxPairsParameters).ToList();
        int d = parameters.Count, s = report.NumDraws;
        var draws = new double[d][];
        var truth = new double[d];
        int column = 0;
        // Truths holds the inference variables in the manifest's order, the order of report.Parameters.
        foreach (var spec in report.Truths.Names)
        {
            double[] values = report.Draws[spec];
            int width = report.Draws.Values.Width(spec);
            for (int j = 0; j < width && column < d; j++, column++)
            {
                var x = new double[s];
                for (int r = 0; r < s; r++) x[r] = values[((long)dataset * s + r) * width + j];
                draws[column] = x;
                truth[column] = parameters[column].Truth[dataset];
            }
        }
        // Shared axis ranges per parameter, so a column's scatter plots line up with its histogram; the
        // truth is included even when it lies outside the draws.
        var ranges = new (double Low, double High)[d];
        for (int i = 0; i < d; i++)
        {
            double lo = Math.Min(draws[i].Min(), truth[i]), hi = Math.Max(draws[i].Max(), truth[i]);
            double pad = 0.05 * (hi > lo ? hi - lo : 1);
            ranges[i] = (lo - pad, hi + pad);
        }
        // Bins: about √S, between 10 and 40, so 500 draws give 22 bins of ~23 draws each.
        int bins = Math.Clamp((int)Math.Round(Math.Sqrt(s)), 10, 40);
        var cells = new List<Plot>();
        for (int row = 0; row < d; row++)
            for (int col = 0; col < d; col++)
            {
                var plot = new Plot();
                Style(plot);
                if (col > row)
                {
                    plot.HideAxesAndGrid();
                    if (row == 0 && col == d - 1)
                        Note(plot, $"posterior of dataset {dataset}\n{s} draws\ntrue value in red", Alignment.MiddleCenter);
                }
                else if (col == row)
                {
                    var hist = ScottPlot.Statistics.Histogram.WithBinCount(bins, draws[col].Min(), draws[col].Max());
                    hist.IncludeOutliers = true;
                    hist.AddRange(draws[col]);
                    plot.Add.Histogram(hist, Blue.WithAlpha(0.7));
                    plot.Add.VerticalLine(truth[col], 2, Red);
                    plot.Axes.SetLimitsX(ranges[col].Low, ranges[col].High);
                    plot.Axes.SetLimitsY(0, 1.1 * hist.Counts.Max());
                    plot.XLabel(parameters[col].Name, 14);
                    plot.YLabel("count", 12);
                }
                else
                {
                    var points = plot.Add.ScatterPoints(draws[col], draws[row], Blue.WithAlpha(0.45));
                    points.MarkerSize = 3;
                    plot.Add.Marker(truth[col], truth[row], MarkerShape.FilledCircle, 10, Red);
                    plot.Axes.SetLimits(ranges[col].Low, ranges[col].High, ranges[row].Low, ranges[row].High);
                    plot.XLabel(parameters[col].Name, 14);
                    plot.YLabel(parameters[row].Name, 14);
                }
                cells.Add(plot);
            }
        // new Multiplot() starts with a plot of its own; starting from the first cell avoids a stray panel.
        var multiplot = new Multiplot(cells[0]);
        foreach (var cell in cells.Skip(1)) multiplot.AddPlot(cell);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(d, d);
        var (w, h) = PairsSize(d);
        using var image = multiplot.Render(w, h);
        Save(image.GetImageBytes(ImageFormat.Png, 100), path);
    }

    private static Plot Panel(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        Style(plot);
        plot.Title(title, 16);
        plot.XLabel(xLabel, 14);
        plot.YLabel(yLabel, 14);
        return plot;
    }

    private static void Style(Plot plot)
    {
        if (SansFont is not null) plot.Font.Set(SansFont);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.Legend.FontSize = 12;
    }

    private static void Note(Plot plot, string text, Alignment alignment)
    {
        var note = plot.Add.Annotation(text, alignment);
        note.LabelFontSize = 12;
        note.LabelBackgroundColor = Colors.White.WithAlpha(0.8);
        note.LabelBorderColor = Colors.LightGray;
        note.LabelShadowColor = Colors.Transparent;
    }

    private static void SaveGrid(IReadOnlyList<Plot> panels, string path)
    {
        var (w, h) = GridSize(panels.Count);
        int columns = Math.Min(panels.Count, MaxColumns);
        var multiplot = new Multiplot(panels[0]);
        foreach (var p in panels.Skip(1)) multiplot.AddPlot(p);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(h / PanelHeight, columns);
        using var image = multiplot.Render(w, h);
        Save(image.GetImageBytes(ImageFormat.Png, 100), path);
    }

    /// <summary>"95%" for 0.95, without the culture's space before the sign.</summary>
    internal static string Percent(double fraction) => (100 * fraction).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) + "%";

    private static void Save(byte[] png, string path) => DiagnosticsFiles.WriteAtomically(path, s => s.Write(png));

    private static double FiniteAbsMax(double[] values)
    {
        double max = 0;
        foreach (double v in values) if (double.IsFinite(v)) max = Math.Max(max, Math.Abs(v));
        return max;
    }

    private static double FiniteMin(double[] values)
    {
        double min = double.PositiveInfinity;
        foreach (double v in values) if (double.IsFinite(v)) min = Math.Min(min, v);
        return double.IsFinite(min) ? min : 0;
    }
}
