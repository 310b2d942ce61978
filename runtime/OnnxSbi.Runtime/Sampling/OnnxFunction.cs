using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;

namespace OnnxSbi.Runtime.Sampling;

/// <summary>
/// One exported graph in an ONNX Runtime session, evaluated on fixed-size row blocks through
/// IoBinding: every input and output lives in a managed array pinned once by an OrtValue, so a
/// <see cref="Evaluation.Run"/> allocates nothing. The session is shared by all threads; each caller
/// rents its own <see cref="Evaluation"/> (buffers + binding), returned to a pool after use.
/// </summary>
internal sealed class OnnxFunction : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly ConcurrentDictionary<int, ConcurrentBag<Evaluation>> pool = new();
    private readonly (string Name, int Width)[] inputs;
    private readonly (string Name, int Width)[] outputs;
    private bool disposed;
    private long rowsEvaluated;

    /// <summary>Takes ownership of <paramref name="session"/>. Widths are the per-row sizes of each input and output.</summary>
    public OnnxFunction(InferenceSession session, (string Name, int Width)[] inputs, (string Name, int Width)[] outputs)
    {
        this.session = session;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /// <summary>
    /// Rows pushed through the graph so far (sum of block rows over all runs); the benchmark multiplies
    /// it by the graph's FLOPs per row to get the network work actually done.
    /// </summary>
    public long RowsEvaluated => Interlocked.Read(ref rowsEvaluated);

    /// <summary>Rents buffers and a binding for blocks of exactly <paramref name="rows"/> rows.</summary>
    public Evaluation Rent(int rows)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var bag = pool.GetOrAdd(rows, _ => new ConcurrentBag<Evaluation>());
        return bag.TryTake(out var e) ? e : new Evaluation(this, rows);
    }

    private void Return(Evaluation e)
    {
        if (disposed) e.Release();
        else pool.GetOrAdd(e.Rows, _ => new ConcurrentBag<Evaluation>()).Add(e);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var bag in pool.Values)
            while (bag.TryTake(out var e)) e.Release();
        runOptions.Dispose();
        session.Dispose();
    }

    /// <summary>Input and output arrays of one row block, bound to the session. Dispose returns it to the pool.</summary>
    internal sealed class Evaluation : IDisposable
    {
        private readonly OnnxFunction owner;
        private readonly OrtIoBinding binding;
        private readonly OrtValue[] values;

        public Evaluation(OnnxFunction owner, int rows)
        {
            this.owner = owner;
            Rows = rows;
            Inputs = owner.inputs.Select(i => new float[rows * i.Width]).ToArray();
            Outputs = owner.outputs.Select(o => new float[rows * Math.Max(1, o.Width)]).ToArray();
            values = new OrtValue[Inputs.Length + Outputs.Length];
            binding = owner.session.CreateIoBinding();
            try
            {
                for (int k = 0; k < Inputs.Length; k++)
                {
                    values[k] = OrtValue.CreateTensorValueFromMemory(Inputs[k], Shape(rows, owner.inputs[k].Width));
                    binding.BindInput(owner.inputs[k].Name, values[k]);
                }
                for (int k = 0; k < Outputs.Length; k++)
                {
                    var v = OrtValue.CreateTensorValueFromMemory(Outputs[k], Shape(rows, owner.outputs[k].Width));
                    values[Inputs.Length + k] = v;
                    binding.BindOutput(owner.outputs[k].Name, v);
                }
            }
            catch
            {
                Release();
                throw;
            }
        }

        public int Rows { get; }

        /// <summary>Row-major input arrays, in the order the function was declared with.</summary>
        public float[][] Inputs { get; }

        /// <summary>Row-major output arrays, overwritten by each <see cref="Run"/>.</summary>
        public float[][] Outputs { get; }

        /// <summary>Runs the graph on the current inputs. Allocation-free.</summary>
        public void Run()
        {
            owner.session.RunWithBinding(owner.runOptions, binding);
            Interlocked.Add(ref owner.rowsEvaluated, Rows);
        }

        public void Dispose() => owner.Return(this);

        internal void Release()
        {
            binding.Dispose();
            foreach (var v in values) v?.Dispose();
        }

        // Width 0 marks a per-row scalar output ([N], e.g. log_det).
        private static long[] Shape(int rows, int width) => width == 0 ? [rows] : [rows, width];
    }
}
