using System.Globalization;
using System.Text;
using System.Text.Json;
using OnnxSbi.Diagnostics.Plots;
using OnnxSbi.Runtime.IO;

namespace OnnxSbi.Diagnostics;

/// <summary>
/// The files of a diagnostics run: the JSON report, the CSV table, the PNG figures, and the readable summary that
/// command-line tools print. Every file is written atomically, its directory created when missing.
/// </summary>
public static class DiagnosticsFiles
{
    /// <summary>The name of the loss-history figure, written only when the bundle records training losses.</summary>
    public const string LossFigure = "loss.png";

    /// <summary>
    /// Writes diagnostics.json, diagnostics.csv, recovery.png, calibration_ecdf.png, z_score_contraction.png,
    /// coverage.png, pairs.png (of dataset <paramref name="observation"/>) and, when the bundle records training
    /// losses, <see cref="LossFigure"/> into <paramref name="outDir"/>.
    /// </summary>
    /// <param name="report">The diagnostics to write.</param>
    /// <param name="model">The bundle the report is of (its family and training record are written).</param>
    /// <param name="source">Where the (θ, x) pairs came from, e.g. "task two_moons" or "test set FILE.csv".</param>
    /// <param name="outDir">The output directory, created when missing.</param>
    /// <param name="observation">The dataset whose posterior the pairs plot shows, in [0, report.NumDatasets).</param>
    /// <returns>The paths written, in order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="observation"/> is not a dataset of the report.</exception>
    public static IReadOnlyList<string> WriteAll(DiagnosticsReport report, PosteriorModel model, string source, string outDir, int observation = 0)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(observation);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(observation, report.NumDatasets);
        var written = new List<string>();
        string Out(string name)
        {
            string path = Path.Combine(outDir, name);
            written.Add(path);
            return path;
        }
        WriteJson(report, model, source, Out("diagnostics.json"));
        WriteCsv(report, Out("diagnostics.csv"));
        DiagnosticPlots.Recovery(report, Out("recovery.png"));
        DiagnosticPlots.CalibrationEcdf(report, Out("calibration_ecdf.png"));
        DiagnosticPlots.ZScoreContraction(report, Out("z_score_contraction.png"));
        DiagnosticPlots.Coverage(report, Out("coverage.png"));
        DiagnosticPlots.Pairs(report, observation, Out("pairs.png"));
        string lossPath = Path.Combine(outDir, LossFigure);
        if (DiagnosticPlots.LossHistory(model.Description.Training, lossPath)) written.Add(lossPath);
        return written;
    }

    private static readonly string[] CsvColumns =
    [
        "parameter", "within_band", "chi_square", "chi_square_p_value", "calibration_error", "coverage_50", "coverage_80", "coverage_95",
        "mean_contraction", "mean_z_score", "z_score_sd", "median_abs_z_score", "nrmse", "r_squared",
    ];

    /// <summary>
    /// diagnostics.json: run settings, timings, the band, and per parameter the summaries and the
    /// per-dataset arrays behind the figures (ranks, truth, posterior median/sd, z-scores, contraction).
    /// Non-finite numbers are written as null.
    /// </summary>
    public static void WriteJson(DiagnosticsReport report, PosteriorModel model, string source, string path)
    {
        DiagnosticsFiles.WriteAtomically(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("model", report.ModelPath);
            w.WriteString("family", model.Description.Family.ToString());
            w.WriteString("source", source);
            w.WriteNumber("datasets", report.NumDatasets);
            w.WriteNumber("draws", report.NumDraws);
            w.WriteNumber("seed", report.Seed);
            w.WriteBoolean("all_within_band", report.AllWithinBand);
            w.WriteStartObject("timings_seconds");
            Number(w, "simulation", report.Timings.SimulationSeconds);
            Number(w, "sampling", report.Timings.SamplingSeconds);
            Number(w, "band", report.Timings.BandSeconds);
            Number(w, "analysis", report.Timings.AnalysisSeconds);
            Number(w, "total", report.Timings.TotalSeconds);
            Number(w, "draws_per_second", report.Timings.DrawsPerSecond);
            w.WriteEndObject();
            w.WriteStartArray("warnings");
            foreach (string warning in report.Warnings) w.WriteStringValue(warning);
            w.WriteEndArray();
            w.WriteStartObject("band");
            Number(w, "confidence", report.Band.Confidence);
            Number(w, "adjusted_gamma", report.Band.AdjustedGamma);
            w.WriteNumber("simulations", EcdfBand.Simulations);
            Array(w, "points", report.Band.Points);
            Array(w, "lower", report.Band.Lower);
            Array(w, "upper", report.Band.Upper);
            w.WriteEndObject();
            Array(w, "coverage_levels", report.CoverageLevels);
            w.WriteStartArray("parameters");
            foreach (var p in report.Parameters)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                w.WriteBoolean("within_band", p.WithinBand);
                Number(w, "chi_square", p.ChiSquare);
                w.WriteNumber("chi_square_bins", p.ChiSquareBins);
                Number(w, "chi_square_p_value", p.ChiSquarePValue);
                Number(w, "calibration_error", p.CalibrationError);
                Number(w, "coverage_50", p.Coverage50);
                Number(w, "coverage_80", p.Coverage80);
                Number(w, "coverage_95", p.Coverage95);
                Number(w, "prior_variance", p.PriorVariance);
                Number(w, "mean_contraction", p.MeanContraction);
                Number(w, "mean_z_score", p.MeanZScore);
                Number(w, "z_score_sd", p.ZScoreSd);
                Number(w, "median_abs_z_score", p.MedianAbsZScore);
                Number(w, "nrmse", p.Nrmse);
                w.WriteString("nrmse_normalization", "range of the true values");
                Number(w, "r_squared", p.RSquared);
                Array(w, "coverage", p.Coverage);
                Array(w, "ecdf_difference", p.EcdfDifference);
                w.WriteStartArray("ranks");
                foreach (int r in p.Ranks) w.WriteNumberValue(r);
                w.WriteEndArray();
                Array(w, "truth", p.Truth);
                Array(w, "posterior_median", p.PosteriorMedian);
                Array(w, "posterior_sd", p.PosteriorSd);
                Array(w, "z_score", p.ZScore);
                Array(w, "contraction", p.Contraction);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>diagnostics.csv: one row per parameter with the summary metrics.</summary>
    public static void WriteCsv(DiagnosticsReport report, string path)
    {
        var inv = CultureInfo.InvariantCulture;
        DiagnosticsFiles.WriteAtomically(path, stream =>
        {
            using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            w.WriteLine(string.Join(",", CsvColumns));
            foreach (var p in report.Parameters)
            {
                double[] values = [p.ChiSquare, p.ChiSquarePValue, p.CalibrationError, p.Coverage50, p.Coverage80, p.Coverage95,
                    p.MeanContraction, p.MeanZScore, p.ZScoreSd, p.MedianAbsZScore, p.Nrmse, p.RSquared];
                w.WriteLine($"{p.Name},{(p.WithinBand ? "true" : "false")},{string.Join(",", values.Select(v => v.ToString("R", inv)))}");
            }
        });
    }

    /// <summary>A readable table of the summaries with the run's settings and timings.</summary>
    public static string Summary(DiagnosticsReport report, PosteriorModel model, string source, double outputSeconds)
    {
        var inv = CultureInfo.InvariantCulture;
        var t = report.Timings;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"Diagnostics of {report.ModelPath} ({model.Description.Family}, {model.Provider})"));
        sb.AppendLine(string.Create(inv, $"{report.NumDatasets} datasets × {report.NumDraws} draws from {source}, seed {report.Seed}; SBC band {DiagnosticPlots.Percent(report.Band.Confidence)} simultaneous (γ = {report.Band.AdjustedGamma:G3})"));
        sb.AppendLine();
        int nameWidth = Math.Max(9, report.Parameters.Max(p => p.Name.Length));
        sb.AppendLine(string.Create(inv, $"{"parameter".PadRight(nameWidth)}  in band  χ² p      cal.err  cov50  cov80  cov95  contraction  mean z  sd z   NRMSE   R²"));
        foreach (var p in report.Parameters)
        {
            sb.AppendLine(string.Create(inv,
                $"{p.Name.PadRight(nameWidth)}  {(p.WithinBand ? "yes" : "NO "),-7}  {p.ChiSquarePValue,-8:G3}  {p.CalibrationError,7:F3}  {p.Coverage50,5:F3}  {p.Coverage80,5:F3}  {p.Coverage95,5:F3}  {p.MeanContraction,11:F3}  {p.MeanZScore,6:F2}  {p.ZScoreSd,5:F2}  {p.Nrmse,6:F3}  {p.RSquared,6:F3}"));
        }
        sb.AppendLine();
        sb.AppendLine(string.Create(inv,
            $"verdict: {(report.AllWithinBand ? "every parameter's rank ECDF stays inside the band" : "rank ECDF leaves the band for " + string.Join(", ", report.Parameters.Where(p => !p.WithinBand).Select(p => p.Name)))}"));
        sb.Append(string.Create(inv,
            $"time: simulate {t.SimulationSeconds:F2} s, sample {t.SamplingSeconds:F2} s ({t.DrawsPerSecond:N0} draws/s), band {t.BandSeconds:F2} s, analysis {t.AnalysisSeconds:F2} s, files and plots {outputSeconds:F2} s"));
        return sb.ToString();
    }

    /// <summary>Writes a file atomically (<see cref="AtomicFile"/>), creating its directory when missing.</summary>
    internal static void WriteAtomically(string path, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.Write(path, write);
    }

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    private static void Array(Utf8JsonWriter w, string name, IReadOnlyList<double> values)
    {
        w.WriteStartArray(name);
        foreach (double v in values)
        {
            if (double.IsFinite(v)) w.WriteNumberValue(v);
            else w.WriteNullValue();
        }
        w.WriteEndArray();
    }
}
