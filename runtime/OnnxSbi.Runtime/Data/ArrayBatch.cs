namespace OnnxSbi.Runtime;

/// <summary>
/// Named arrays that share a leading batch dimension: the currency of simulators and adapters,
/// like the dict of NumPy arrays a BayesFlow simulator returns. Each variable is stored row-major
/// as <c>double</c> (the user's precision); per-sample shapes exclude the batch dimension.
/// </summary>
public sealed class ArrayBatch
{
    private readonly Dictionary<string, (double[] Data, int[] SampleShape)> _vars = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>Creates an empty batch of <paramref name="rows"/> rows.</summary>
    public ArrayBatch(int rows)
    {
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "The number of rows must not be negative.");
        Rows = rows;
    }

    /// <summary>The shared batch size.</summary>
    public int Rows { get; }

    /// <summary>Variable names, in insertion order.</summary>
    public IReadOnlyList<string> Names => _order;

    /// <summary>True when a variable of that name is present.</summary>
    public bool Contains(string name) => _vars.ContainsKey(name);

    /// <summary>
    /// Adds or replaces a variable. <paramref name="data"/> holds <see cref="Rows"/> samples of
    /// <paramref name="sampleShape"/> each (a scalar per row when the shape is empty). The array is
    /// kept, not copied.
    /// </summary>
    public ArrayBatch Set(string name, double[] data, params int[] sampleShape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        int width = WidthOf(sampleShape);
        if (data.Length != (long)Rows * width)
            throw new ShapeMismatchException(name, $"[{Rows}, {string.Join(", ", sampleShape)}] ({(long)Rows * width} values)", $"{data.Length} values");
        if (!_vars.ContainsKey(name)) _order.Add(name);
        _vars[name] = (data, (int[])sampleShape.Clone());
        return this;
    }

    /// <summary>The variable's values, row-major, shared (not copied).</summary>
    public double[] Get(string name) => Lookup(name).Data;

    /// <summary>The variable's per-sample shape.</summary>
    public IReadOnlyList<int> SampleShape(string name) => Lookup(name).SampleShape;

    /// <summary>The number of values per row (product of the per-sample shape).</summary>
    public int Width(string name) => WidthOf(Lookup(name).SampleShape);

    /// <summary>Removes a variable; returns false if it was absent.</summary>
    public bool Remove(string name)
    {
        if (!_vars.Remove(name)) return false;
        _order.Remove(name);
        return true;
    }

    /// <summary>Renames a variable, keeping its position.</summary>
    public void Rename(string from, string to)
    {
        var v = Lookup(from);
        if (from == to) return;
        if (_vars.ContainsKey(to)) throw new ArgumentException($"Cannot rename '{from}' to '{to}': a variable named '{to}' already exists.");
        _vars.Remove(from);
        _vars[to] = v;
        _order[_order.IndexOf(from)] = to;
    }

    /// <summary>A copy whose arrays are cloned, so transforms may work in place on it.</summary>
    public ArrayBatch Clone()
    {
        var copy = new ArrayBatch(Rows);
        foreach (string n in _order) copy.Set(n, (double[])_vars[n].Data.Clone(), _vars[n].SampleShape);
        return copy;
    }

    /// <summary>Rows <paramref name="start"/> to <paramref name="start"/>+<paramref name="count"/>, copied.</summary>
    public ArrayBatch Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside a batch of {Rows}.");
        var part = new ArrayBatch(count);
        foreach (string n in _order)
        {
            var (data, shape) = _vars[n];
            int w = WidthOf(shape);
            part.Set(n, data.AsSpan(start * w, count * w).ToArray(), shape);
        }
        return part;
    }

    /// <summary>Stacks batches with the same variables and shapes along the batch dimension.</summary>
    public static ArrayBatch Concat(IReadOnlyList<ArrayBatch> parts)
    {
        if (parts.Count == 0) return new ArrayBatch(0);
        var result = new ArrayBatch(parts.Sum(p => p.Rows));
        foreach (string n in parts[0].Names)
        {
            var shape = parts[0].Lookup(n).SampleShape;
            var data = new double[(long)result.Rows * WidthOf(shape)];
            int at = 0;
            foreach (var p in parts)
            {
                var src = p.Get(n);
                src.CopyTo(data, at);
                at += src.Length;
            }
            result.Set(n, data, shape);
        }
        return result;
    }

    internal static int WidthOf(IReadOnlyList<int> shape)
    {
        long w = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension {d} in shape [{string.Join(", ", shape)}].");
            w *= d;
        }
        if (w > int.MaxValue) throw new ArgumentException($"Shape [{string.Join(", ", shape)}] is too large.");
        return (int)w;
    }

    private (double[] Data, int[] SampleShape) Lookup(string name)
        => _vars.TryGetValue(name, out var v)
            ? v
            : throw new UnknownVariableException(name, _order);
}
