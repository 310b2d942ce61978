using OnnxSbi.Runtime.IO;
using ScottPlot;

namespace OnnxSbi.Bench;

/// <summary>The tutorial's figures, drawn with ScottPlot.</summary>
internal static class TutorialPlots
{
    /// <summary>Four scatter panels side by side, equal aspect, limits [−0.5, 0.5], titled, axes θ1 and θ2.</summary>
    public static void TutorialFigure(string path, IReadOnlyList<(string Title, double[] Theta)> panels)
    {
        var multi = new Multiplot();
        multi.AddPlots(panels.Count);
        for (int k = 0; k < panels.Count; k++)
        {
            var plot = multi.GetPlot(k);
            var (title, theta) = panels[k];
            int n = theta.Length / 2;
            var xs = new double[n];
            var ys = new double[n];
            for (int i = 0; i < n; i++) { xs[i] = theta[2 * i]; ys[i] = theta[2 * i + 1]; }
            var points = plot.Add.ScatterPoints(xs, ys);
            points.MarkerSize = 2.5f;
            points.Color = Colors.SteelBlue.WithAlpha(0.55);
            plot.Axes.SetLimits(-0.5, 0.5, -0.5, 0.5);
            plot.Title(title, size: 18);
            plot.XLabel("θ1", size: 16);
            plot.YLabel("θ2", size: 16);
        }
        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();
        // Each panel is square (400 × 400 px, same limits on both axes), so units are equal in x and y.
        using var image = multi.Render(400 * panels.Count, 430);
        AtomicFile.WriteAllBytes(path, image.GetImageBytes(ImageFormat.Png, 100));
    }

    /// <summary>Training and validation loss per epoch.</summary>
    public static void LossCurves(string path, string title, IReadOnlyList<double> loss, IReadOnlyList<double> validation)
    {
        var plot = new Plot();
        double[] epochs = Enumerable.Range(1, loss.Count).Select(e => (double)e).ToArray();
        if (loss.Count > 0)
        {
            var train = plot.Add.Scatter(epochs, loss.ToArray());
            train.LegendText = "training loss";
            var valid = validation.Where(double.IsFinite).ToArray();
            if (valid.Length == loss.Count)
            {
                var val = plot.Add.Scatter(epochs, valid);
                val.LegendText = "validation loss";
            }
            plot.ShowLegend(Alignment.UpperRight);
        }
        plot.Title($"{title}: loss per epoch", size: 18);
        plot.XLabel("epoch", size: 16);
        plot.YLabel("loss", size: 16);
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(800, 500, ImageFormat.Png));
    }
}
