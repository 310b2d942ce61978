using System.Globalization;

namespace OnnxSbi.Bench.Sbibm;

/// <summary>
/// sbibm's published C2ST means (Lueckmann et al. 2021), from <c>bench/sbibm/published_c2st.csv</c>, which cites its
/// source and is embedded in the program: rows of task, algorithm, simulations and the mean C2ST over the 10 observations.
/// </summary>
internal sealed class PublishedScores
{
    /// <summary>The algorithms the results table shows beside ours, in this order.</summary>
    public static readonly string[] Algorithms = ["NPE", "SNPE", "NLE", "SNLE", "NRE", "SNRE"];

    private const string ResourceName = "OnnxSbi.Bench.Sbibm.published_c2st.csv";

    private readonly Dictionary<(string Task, string Algorithm, int Simulations), double> _means;

    private PublishedScores(Dictionary<(string, string, int), double> means) => _means = means;

    /// <summary>The table embedded in the program.</summary>
    public static PublishedScores Embedded { get; } = Load();

    /// <summary>The published mean of <paramref name="algorithm"/> on <paramref name="task"/> at <paramref name="simulations"/>, or null.</summary>
    public double? Mean(string task, string algorithm, int simulations)
        => _means.TryGetValue((task, algorithm, simulations), out double v) ? v : null;

    /// <summary>Parses the CSV text: '#' lines are comments, the first other line is the header.</summary>
    /// <exception cref="InvalidDataException">A row is malformed; the message names the line.</exception>
    internal static PublishedScores Parse(string text, string source)
    {
        var means = new Dictionary<(string, string, int), double>();
        foreach (var (line, row, f) in DataTable.Rows(text, source, "task,algorithm,simulations,c2st_mean"))
        {
            if (f.Length != 4 || !int.TryParse(f[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out int sims)
                || !double.TryParse(f[3], NumberStyles.Float, CultureInfo.InvariantCulture, out double mean))
                throw new InvalidDataException($"{source}:{line}: expected task,algorithm,simulations,c2st_mean; found '{row}'.");
            means[(f[0], f[1], sims)] = mean;
        }
        return new PublishedScores(means);
    }

    private static PublishedScores Load() => Parse(DataTable.Resource(ResourceName), "bench/sbibm/published_c2st.csv");
}
