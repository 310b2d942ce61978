using System.Numerics;
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
/// An evaluation's arrays hold a capacity of rows (<see cref="CapacityFor"/>: a power of two, at least
/// <see cref="MinCapacityRows"/>) and are bound with the exact shape of the block it is rented for, so a request's
/// last block, whose row count is its own, reuses the buffers of any block of the same capacity class and only
/// rebinds them. The pool keeps evaluations for at most <see cref="MaxPooledShapes"/> capacity classes and disposes
/// those of the class used least recently when a new one comes (<see cref="BlockPool{TKey, TItem}"/>).
/// A solver loop graph (<see cref="Compilation.SolverLoopGraph"/>) is one too, with inputs sized by the step count.
/// </summary>
internal sealed class OnnxFunction : IDisposable
{
    private readonly InferenceSession session;
    private readonly BlockPool<(int Capacity, int Steps), Evaluation> pool;
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
        pool = new BlockPool<(int Capacity, int Steps), Evaluation>(maxPooledShapes, static e => e.Release());
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

    /// <summary>The smallest row capacity an evaluation is allocated with: every block of fewer rows shares it.</summary>
    internal const int MinCapacityRows = 64;

    /// <summary>
    /// The rows an evaluation for blocks of <paramref name="rows"/> rows holds: the next power of two, at least
    /// <see cref="MinCapacityRows"/>. Classes of doubling size bound the distinct buffers a model keeps (a handful
    /// for any mix of draw counts) while wasting at most half of an evaluation's input and output arrays.
    /// </summary>
    internal static int CapacityFor(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (rows <= MinCapacityRows) return MinCapacityRows;
        return rows > 1 << 30 ? rows : (int)BitOperations.RoundUpToPowerOf2((uint)rows);
    }

    /// <summary>
    /// Rents buffers and a binding for a block of exactly <paramref name="rows"/> rows (and <paramref name="steps"/>
    /// solver steps): a pooled evaluation of the same capacity class, rebound to this row count if it was bound to
    /// another, or a new one. The caller owns it until it disposes it, which returns it.
    /// </summary>
    public Evaluation Rent(int rows, int steps = 0)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        int capacity = CapacityFor(rows);
        var e = pool.TryTake((capacity, steps), out var pooled) ? pooled : new Evaluation(this, capacity, steps);
        try
        {
            e.Bind(rows);
        }
        catch
        {
            e.Release();
            throw;
        }
        return e;
    }

    private void Return(Evaluation e) => pool.Return((e.Capacity, e.Steps), e);

    /// <summary>Disposes the pooled evaluations and the session; evaluations still rented are disposed when returned.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        pool.Dispose();
        session.Dispose();
    }

    /// <summary>
    /// Input and output arrays for blocks of up to <see cref="Capacity"/> rows, bound to the session with the shape
    /// of the block they serve now (<see cref="Rows"/>). Dispose returns it to the pool.
    /// </summary>
    internal sealed class Evaluation : IDisposable
    {
        private readonly OnnxFunction owner;
        private readonly OrtIoBinding binding;
        private readonly RunOptions runOptions = new();
        private readonly float[][] inputArrays;
        private readonly float[][] outputArrays;
        private readonly int[] lengths;
        private readonly OrtValue?[] values;

        public Evaluation(OnnxFunction owner, int capacity, int steps)
        {
            this.owner = owner;
            Capacity = capacity;
            Steps = steps;
            // Allocated on the pinned object heap: the arrays never move, so rebinding a prefix of them to another
            // row count can replace the tensors that point into them while the old ones are still bound.
            inputArrays = owner.inputs.Select(i => GC.AllocateArray<float>(checked((int)Size(i.Shape(capacity, steps))), pinned: true)).ToArray();
            outputArrays = owner.outputs.Select(o => GC.AllocateArray<float>(checked((int)Size(o.Shape(capacity, steps))), pinned: true)).ToArray();
            lengths = new int[inputArrays.Length + outputArrays.Length];
            values = new OrtValue?[lengths.Length];
            binding = owner.session.CreateIoBinding();
        }

        /// <summary>The most rows a block bound to these arrays may have.</summary>
        public int Capacity { get; }

        /// <summary>The rows of the block the arrays are bound for now; 0 before the first <see cref="Bind"/>.</summary>
        public int Rows { get; private set; }

        /// <summary>Solver steps of the block (0 for a plain network evaluation).</summary>
        public int Steps { get; }

        /// <summary>Row-major inputs of the bound block, in the order the function was declared with; each exactly the bound shape's size.</summary>
        public BoundTensors Inputs => new(inputArrays, lengths, 0);

        /// <summary>Row-major outputs of the bound block, overwritten by each run; each exactly the bound shape's size.</summary>
        public BoundTensors Outputs => new(outputArrays, lengths, inputArrays.Length);

        /// <summary>
        /// Binds the arrays' prefixes for a block of <paramref name="rows"/> rows; nothing to do when they are bound
        /// for that row count already. The graph sees exactly the shapes a block of that size has.
        /// </summary>
        internal void Bind(int rows)
        {
            if (rows == Rows) return;
            ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, Capacity);
            Rows = 0;
            for (int k = 0; k < values.Length; k++)
            {
                bool input = k < inputArrays.Length;
                var port = input ? owner.inputs[k] : owner.outputs[k - inputArrays.Length];
                var array = input ? inputArrays[k] : outputArrays[k - inputArrays.Length];
                long[] shape = port.Shape(rows, Steps);
                int length = (int)Size(shape);
                var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, array.AsMemory(0, length), shape);
                try
                {
                    if (input) binding.BindInput(port.Name, value);
                    else binding.BindOutput(port.Name, value);
                }
                catch
                {
                    value.Dispose();
                    throw;
                }
                values[k]?.Dispose();
                values[k] = value;
                lengths[k] = length;
            }
            Rows = rows;
        }

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
            for (int k = 0; k < inputArrays.Length; k++) binding.BindInput(owner.inputs[k].Name, values[k]!);
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

    /// <summary>
    /// The input or output arrays of an <see cref="Evaluation"/>, each as a span of exactly the bound block's size
    /// (the arrays themselves hold the capacity's); a view, allocation-free.
    /// </summary>
    internal readonly struct BoundTensors
    {
        private readonly float[][] arrays;
        private readonly int[] lengths;
        private readonly int offset;

        internal BoundTensors(float[][] arrays, int[] lengths, int offset)
        {
            this.arrays = arrays;
            this.lengths = lengths;
            this.offset = offset;
        }

        /// <summary>The <paramref name="k"/>-th tensor of the bound block.</summary>
        public Span<float> this[int k] => arrays[k].AsSpan(0, lengths[offset + k]);

        /// <summary>The number of tensors.</summary>
        public int Count => arrays.Length;
    }
}
