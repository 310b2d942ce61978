namespace OnnxSbi.Bench.Sbibm;

/// <summary>
/// The benchmark's small data files (bench/sbibm/*.csv), embedded in the program: '#' lines are comments, the first
/// other line must be the expected header, and every further non-empty line is a row of comma-separated fields.
/// </summary>
internal static class DataTable
{
    /// <summary>The text of the embedded resource <paramref name="name"/>.</summary>
    public static string Resource(string name)
    {
        using var stream = typeof(DataTable).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The program lacks its embedded resource {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The rows of <paramref name="text"/> with their line numbers, after checking the header.</summary>
    /// <exception cref="InvalidDataException">The header is not <paramref name="header"/>; the message names the line.</exception>
    public static IEnumerable<(int Line, string Text, string[] Fields)> Rows(string text, string source, string header)
    {
        bool seenHeader = false;
        int lineNumber = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (!seenHeader)
            {
                if (line != header)
                    throw new InvalidDataException($"{source}:{lineNumber}: expected the header '{header}'; found '{line}'.");
                seenHeader = true;
                continue;
            }
            yield return (lineNumber, line, line.Split(','));
        }
    }
}
