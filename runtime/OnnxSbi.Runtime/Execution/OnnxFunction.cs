using Microsoft.ML.OnnxRuntime;

namespace OnnxSbi.Runtime.Execution;

/// <summary>
/// A tensor an <see cref="OnnxFunction"/> binds: its name and its shape for a block of <c>rows</c> rows and
/// <c>steps</c> solver steps (0 for a plain network evaluation).
/// </summary>
internal readonly record struct OnnxPort(string Name, Func<int, int, long[]> Shape)
{
    /// <summary>[rows, width], or [rows] for width 0 (a per-row scalar such as log_det).</summary>
    public static OnnxPort PerRow(string name, int width) => new(name, (rows, _) => width == 0 ? [rows] : [rows, width]);
}

/// <summary>
/// One exported graph in an ONNX Runtime session, evaluated on fixed-size row blocks through
/// IoBinding: every input and output lives in a managed array pinned once by an OrtValue, so a
/// <see cref="Evaluation.Run()"/> allocates nothing. The session is shared by all threads; each caller
/// rents its own <see cref="Evaluation"/> (buffers + binding) for a block shape, returned to a pool after use.
/// The pool keeps evaluations for at most <see cref="MaxPooledShapes"/> block shapes and disposes those of the
/// shape used least recently when a new one comes (<see cref="BlockPool{TKey, TItem}"/>): a request's last block
/// has its own row count, and a long-lived model would otherwise keep buffers and a binding for every one.
/// A solver loop graph (<see cref="Compilation.SolverLoopGraph"/>) is one too, with inputs sized by the step count.
/// </summary>
internal sealed class OnnxFunction : IDisposable
{
    private readonly InferenceSession session;
    private readonly BlockPool<(int Rows, int Steps), Evaluation> pool;
    private readonly OnnxPort[] inputs;
    private readonly OnnxPort[] outputs;
    private readonly int evaluationsPerStep;
    private bool disposed;
    private long rowsEvaluated;

    /// <summary>
    /// Takes ownership of <paramref name="session"/>. Widths are the per-row sizes of each input and output; idle
    /// evaluations are kept for at most <paramref name="maxPooledShapes"/> block sizes.
    /// </summary>
    public OnnxFunction(InferenceSession session, (string Name, int Width)[] inputs, (string Name, int Width)[] outputs, int maxPooledShapes = DefaultMaxPooledShapes)
        : this(session, inputs.Select(i => OnnxPort.PerRow(i.Name, i.Width)).ToArray(), outputs.Select(o => OnnxPort.PerRow(o.Name, o.Width)).ToArray(), maxPooledShapes: maxPooledShapes)
    {
    }

    /// <summary>
    /// Block shapes whose evaluations are kept by default: the full-size block and the last blocks of a few
    /// concurrent requests. Each further shape costs one evaluation's binding and buffers when it is used.
    /// </summary>
    public const int DefaultMaxPooledShapes = 8;

    /// <summary>
    /// Takes ownership of <paramref name="session"/>. A run of a block of S steps counts as
    /// S × <paramref name="evaluationsPerStep"/> network evaluations of its rows (one for S = 0). Idle
    /// evaluations are kept for at most <paramref name="maxPooledShapes"/> block shapes.
    /// </summary>
    public OnnxFunction(InferenceSession session, OnnxPort[] inputs, OnnxPort[] outputs, int evaluationsPerStep = 1, int maxPooledShapes = DefaultMaxPooledShapes)
    {
        pool = new BlockPool<(int Rows, int Steps), Evaluation>(maxPooledShapes, static e => e.Release());
        this.session = session;
        this.inputs = inputs;
        this.outputs = outputs;
        this.evaluationsPerStep = evaluationsPerStep;
    }

    /// <summary>
    /// Whether the session runs on a device other than the CPU. ONNX Runtime copies a host input to such a
    /// device when it is bound (IOBinding::BindInput), not when the graph runs, so a binding made once
    /// would feed every later run the arrays as they were at bind time: each run then binds its inputs
    /// again, which copies their current contents. On the CPU the bound arrays are read in place.
    /// </summary>
    public bool CopiesInputsAtBind { get; init; }

    /// <summary>
    /// Rows pushed through the graph so far (sum of block rows over all runs); the benchmark multiplies
    /// it by the graph's FLOPs per row to get the network work actually done.
    /// </summary>
    public long RowsEvaluated => Interlocked.Read(ref rowsEvaluated);

    /// <summary>The most block shapes whose idle evaluations are kept.</summary>
    public int MaxPooledShapes => pool.MaxKeys;

    /// <summary>Block shapes with idle evaluations kept now (at most <see cref="MaxPooledShapes"/>).</summary>
    internal int PooledShapes => pool.KeyCount;

    /// <summary>
    /// Rents buffers and a binding for blocks of exactly <paramref name="rows"/> rows (and <paramref name="steps"/>
    /// solver steps): a pooled one, or a new one. The caller owns it until it disposes it, which returns it.
    /// </summary>
    public Evaluation Rent(int rows, int steps = 0)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return pool.TryTake((rows, steps), out var e) ? e : new Evaluation(this, rows, steps);
    }

    private void Return(Evaluation e) => pool.Return((e.Rows, e.Steps), e);

    /// <summary>Disposes the pooled evaluations and the session; evaluations still rented are disposed when returned.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        pool.Dispose();
        session.Dispose();
    }

    /// <summary>Input and output arrays of one row block, bound to the session. Dispose returns it to the pool.</summary>
    internal sealed class Evaluation : IDisposable
    {
        private readonly OnnxFunction owner;
        private readonly OrtIoBinding binding;
        private readonly RunOptions runOptions = new();
        private readonly OrtValue[] values;

        public Evaluation(OnnxFunction owner, int rows, int steps)
        {
            this.owner = owner;
            Rows = rows;
            Steps = steps;
            var inputShapes = owner.inputs.Select(i => i.Shape(rows, steps)).ToArray();
            var outputShapes = owner.outputs.Select(o => o.Shape(rows, steps)).ToArray();
            Inputs = inputShapes.Select(shape => new float[Size(shape)]).ToArray();
            Outputs = outputShapes.Select(shape => new float[Size(shape)]).ToArray();
            values = new OrtValue[Inputs.Length + Outputs.Length];
            binding = owner.session.CreateIoBinding();
            try
            {
                for (int k = 0; k < Inputs.Length; k++)
                {
                    values[k] = OrtValue.CreateTensorValueFromMemory(Inputs[k], inputShapes[k]);
                    binding.BindInput(owner.inputs[k].Name, values[k]);
                }
                for (int k = 0; k < Outputs.Length; k++)
                {
                    var v = OrtValue.CreateTensorValueFromMemory(Outputs[k], outputShapes[k]);
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

        /// <summary>Solver steps of the block (0 for a plain network evaluation).</summary>
        public int Steps { get; }

        /// <summary>Row-major input arrays, in the order the function was declared with.</summary>
        public float[][] Inputs { get; }

        /// <summary>Row-major output arrays, overwritten by each run.</summary>
        public float[][] Outputs { get; }

        /// <summary>Runs the graph on the current inputs. Allocation-free on the CPU.</summary>
        public void Run()
        {
            BindCurrentInputs();
            owner.session.RunWithBinding(runOptions, binding);
            Counted();
        }

        /// <summary>
        /// On a device: binds the inputs again, so that ONNX Runtime copies what the arrays hold now (a
        /// device buffer from its arena per input, and the UTF-8 bytes of each name on the managed side).
        /// </summary>
        private void BindCurrentInputs()
        {
            if (!owner.CopiesInputsAtBind) return;
            for (int k = 0; k < Inputs.Length; k++) binding.BindInput(owner.inputs[k].Name, values[k]);
        }

        /// <summary>
        /// Runs the graph; cancelling <paramref name="ct"/> stops it between ONNX Runtime kernels (inside a
        /// solver loop graph too), reported as <see cref="OperationCanceledException"/>.
        /// </summary>
        public void Run(CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            BindCurrentInputs();
            try
            {
                using (ct.Register(static o => ((RunOptions)o!).Terminate = true, runOptions))
                    owner.session.RunWithBinding(runOptions, binding);
            }
            catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
            {
                throw new OperationCanceledException(ct);
            }
            finally
            {
                // The registration is gone here, so a flag set by a late cancellation cannot stop the next run.
                if (ct.IsCancellationRequested) runOptions.Terminate = false;
            }
            Counted();
        }

        /// <summary>Returns the evaluation to its function's pool, which may keep it or release it.</summary>
        public void Dispose() => owner.Return(this);

        /// <summary>True once the binding, run options and tensors have been disposed.</summary>
        internal bool IsReleased { get; private set; }

        internal void Release()
        {
            IsReleased = true;
            binding.Dispose();
            runOptions.Dispose();
            foreach (var v in values) v?.Dispose();
        }

        private void Counted() => Interlocked.Add(ref owner.rowsEvaluated, (long)Rows * Math.Max(Steps, 1) * owner.evaluationsPerStep);

        private static long Size(long[] shape) => shape.Aggregate(1L, (p, n) => p * n);
    }
}
