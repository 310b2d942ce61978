using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.IO;
using System.Globalization;
using System.Text;
using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Cli;

/// <summary>Reads conditions and parameters from the command line and CSV files, and writes draws as CSV or NPY.</summary>
internal static class DataFiles
{
    /// <summary>Column names of a variable: "name" for a scalar, else "name[0]", "name[1]", ….</summary>
    public static IEnumerable<string> Columns(string name, int width, bool scalar)
        => scalar ? [name] : Enumerable.Range(0, width).Select(i => $"{name}[{i}]");

    /// <summary>Parses repeated "--condition name=v1,v2" values into a one-row batch.</summary>
    public static ArrayBatch FromAssignments(IReadOnlyList<string> assignments, IReadOnlyList<VariableDescription> specs)
    {
        var batch = new ArrayBatch(1);
        foreach (string a in assignments)
        {
            int eq = a.IndexOf('=');
            if (eq <= 0) throw new UsageException($"--condition expects name=v1,v2,…; got '{a}'.");
            string name = a[..eq].Trim();
            var values = a[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries).Select((s, i) =>
                double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                    ? v : throw new UsageException($"--condition {name}: value {i} ('{s}') is not a number.")).ToArray();
            var spec = specs.FirstOrDefault(s => s.Name == name);
            int[] shape = spec is not null && spec.Shape.Aggregate(1L, (p, d) => p * d) == values.Length
                ? spec.Shape.Select(d => (int)d).ToArray()
                : values.Length == 1 && spec is null ? [] : [values.Length];
            batch.Set(name, values, shape);
        }
        return batch;
    }

    /// <summary>
    /// Reads a CSV whose header names columns "name[i]" (or "name" for scalars) into a batch shaped by
    /// <paramref name="specs"/>. Columns not in the specs are refused, naming the file and column.
    /// </summary>
    public static ArrayBatch ReadCsv(string path, IReadOnlyList<VariableDescription> specs, string role)
    {
        if (!File.Exists(path)) throw new InputException($"{role} file '{path}' does not exist.");
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToList();
        if (lines.Count < 2) throw new InputException($"{role} file '{path}' needs a header and at least one row.");
        string[] header = lines[0].Split(',', StringSplitOptions.TrimEntries);
        int rows = lines.Count - 1;
        var cells = new double[rows, header.Length];
        for (int r = 0; r < rows; r++)
        {
            string[] parts = lines[r + 1].Split(',', StringSplitOptions.TrimEntries);
            if (parts.Length != header.Length)
                throw new InputException($"{role} file '{path}', line {r + 2}: expected {header.Length} values, found {parts.Length}.");
            for (int c = 0; c < parts.Length; c++)
                cells[r, c] = double.TryParse(parts[c], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                    ? v : throw new InputException($"{role} file '{path}', line {r + 2}, column '{header[c]}': '{parts[c]}' is not a number.");
        }
        var used = new HashSet<int>();
        var batch = new ArrayBatch(rows);
        foreach (var spec in specs)
        {
            int width = (int)spec.Shape.Aggregate(1L, (p, d) => p * d);
            var names = Columns(spec.Name, width, spec.Shape.Count == 0).ToArray();
            var data = new double[rows * width];
            for (int j = 0; j < width; j++)
            {
                int col = Array.IndexOf(header, names[j]);
                if (col < 0)
                    throw new InputException($"{role} file '{path}': missing column '{names[j]}' for variable '{spec.Name}' [{string.Join(", ", spec.Shape)}]. Header: {string.Join(",", header)}.");
                used.Add(col);
                for (int r = 0; r < rows; r++) data[r * width + j] = cells[r, col];
            }
            batch.Set(spec.Name, data, spec.Shape.Select(d => (int)d).ToArray());
        }
        var extra = Enumerable.Range(0, header.Length).Where(c => !used.Contains(c) && header[c] != "condition").Select(c => header[c]).ToList();
        if (extra.Count > 0)
            throw new InputException($"{role} file '{path}': unknown column(s) {string.Join(", ", extra.Select(e => $"'{e}'"))}. Expected: {string.Join(", ", specs.SelectMany(s => Columns(s.Name, (int)s.Shape.Aggregate(1L, (p, d) => p * d), s.Shape.Count == 0)))}.");
        return batch;
    }

    /// <summary>Writes draws to CSV (header of parameter columns, one row per draw; a leading "condition" column when there are several) or NPY ([conditions, draws, width] float64), atomically.</summary>
    public static void WriteDraws(string path, PosteriorDraws draws, bool conditionColumn)
    {
        var names = draws.Values.Names;
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            int width = names.Sum(n => draws.Values.Width(n));
            var data = new double[(long)draws.NumConditions * draws.NumDraws * width];
            for (int r = 0, at = 0; r < draws.Values.Rows; r++)
                foreach (string n in names)
                {
                    int w = draws.Values.Width(n);
                    draws.Values.Get(n).AsSpan(r * w, w).CopyTo(data.AsSpan(at, w));
                    at += w;
                }
            WriteAtomically(path, s => WriteNpy(s, data, [draws.NumConditions, draws.NumDraws, width]));
            return;
        }
        WriteAtomically(path, s =>
        {
            using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            var header = names.SelectMany(n => Columns(n, draws.Values.Width(n), draws.Values.SampleShape(n).Count == 0));
            w.WriteLine(string.Join(",", conditionColumn ? header.Prepend("condition") : header));
            var sb = new StringBuilder();
            for (int r = 0; r < draws.Values.Rows; r++)
            {
                sb.Clear();
                if (conditionColumn) sb.Append(r / draws.NumDraws).Append(',');
                bool first = true;
                foreach (string n in names)
                {
                    int width = draws.Values.Width(n);
                    var values = draws.Values.Get(n);
                    for (int j = 0; j < width; j++)
                    {
                        if (!first) sb.Append(',');
                        sb.Append(values[r * width + j].ToString("R", CultureInfo.InvariantCulture));
                        first = false;
                    }
                }
                w.WriteLine(sb);
            }
        });
    }

    /// <summary>Writes a file atomically (<see cref="AtomicFile"/>), creating its directory when missing.</summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.Write(path, write);
    }

    /// <summary>NPY format 1.0: magic, little-endian header dict padded to 64 bytes, then C-order data.</summary>
    private static void WriteNpy(Stream s, double[] data, int[] shape)
    {
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({string.Join(", ", shape)}{(shape.Length == 1 ? "," : "")}), }}";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        s.Write(BitConverter.GetBytes((ushort)header.Length));
        s.Write(Encoding.ASCII.GetBytes(header));
        s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
    }
}
