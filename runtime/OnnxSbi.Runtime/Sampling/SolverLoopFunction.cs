using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;

namespace OnnxSbi.Runtime.Sampling;

/// <summary>
/// A <see cref="SolverLoopGraph"/> model in an ONNX Runtime session: one run integrates a whole block.
/// Inputs live in managed arrays pinned by OrtValues and bound once per (rows, steps) shape, like
/// <see cref="OnnxFunction"/>; a run can be cancelled while it is inside the loop.
/// </summary>
internal sealed class SolverLoopFunction : IDisposable
{
    private readonly InferenceSession session;
    private readonly int d;
    private readonly int c;
    private readonly bool consistency;
    private readonly int evaluationsPerStep;
    private readonly ConcurrentDictionary<(int Rows, int Steps), ConcurrentBag<Evaluation>> pool = new();
    private bool disposed;
    private long rowsEvaluated;

    /// <summary>
    /// Takes ownership of <paramref name="session"/>, a session of a <see cref="SolverLoopGraph"/> model for D = <paramref name="d"/>
    /// and C = <paramref name="c"/>; <paramref name="evaluationsPerStep"/> network evaluations make one loop iteration (the
    /// method's stages; 1 for <paramref name="consistency"/>).
    /// </summary>
    public SolverLoopFunction(InferenceSession session, int d, int c, bool consistency, int evaluationsPerStep)
    {
        this.session = session;
        this.d = d;
        this.c = c;
        this.consistency = consistency;
        this.evaluationsPerStep = evaluationsPerStep;
    }

    /// <summary>Rows pushed through the network so far, one per row and evaluation.</summary>
    public long RowsEvaluated => Interlocked.Read(ref rowsEvaluated);

    /// <summary>Rents bound buffers for blocks of <paramref name="rows"/> rows and <paramref name="steps"/> steps.</summary>
    public Evaluation Rent(int rows, int steps)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var bag = pool.GetOrAdd((rows, steps), _ => new ConcurrentBag<Evaluation>());
        return bag.TryTake(out var e) ? e : new Evaluation(this, rows, steps);
    }

    private void Return(Evaluation e)
    {
        if (disposed) e.Release();
        else pool.GetOrAdd((e.Rows, e.Steps), _ => new ConcurrentBag<Evaluation>()).Add(e);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var bag in pool.Values)
            while (bag.TryTake(out var e)) e.Release();
        session.Dispose();
    }

    /// <summary>One block's bound inputs and output. Dispose returns it to the pool.</summary>
    internal sealed class Evaluation : IDisposable
    {
        private readonly SolverLoopFunction owner;
        private readonly OrtIoBinding binding;
        private readonly RunOptions runOptions = new();
        private readonly List<OrtValue> values = [];

        public Evaluation(SolverLoopFunction owner, int rows, int steps)
        {
            this.owner = owner;
            Rows = rows;
            Steps = steps;
            int d = owner.d;
            State = new float[rows * d];
            Conditions = new float[rows * owner.c];
            Times = new float[owner.consistency ? steps : steps + 1];
            NoiseScales = owner.consistency ? new float[steps] : [];
            Noise = owner.consistency ? new float[(long)steps * rows * d] : [];
            Output = new float[rows * d];
            binding = owner.session.CreateIoBinding();
            try
            {
                Bind(SolverLoopGraph.InitialState, State, [rows, d]);
                if (owner.c > 0) Bind(SolverLoopGraph.Conditions, Conditions, [rows, owner.c]);
                Bind(SolverLoopGraph.Times, Times, [Times.Length]);
                if (owner.consistency)
                {
                    Bind(SolverLoopGraph.NoiseScales, NoiseScales, [steps]);
                    Bind(SolverLoopGraph.Noise, Noise, [steps, rows, d]);
                }
                var output = OrtValue.CreateTensorValueFromMemory(Output, [rows, d]);
                values.Add(output);
                binding.BindOutput(SolverLoopGraph.FinalState, output);
            }
            catch
            {
                Release();
                throw;
            }
        }

        public int Rows { get; }

        public int Steps { get; }

        /// <summary>The initial state [rows, D].</summary>
        public float[] State { get; }

        /// <summary>The conditions [rows, C].</summary>
        public float[] Conditions { get; }

        /// <summary>The step times (see <see cref="SolverLoopGraph.Times"/>).</summary>
        public float[] Times { get; }

        /// <summary>Consistency only: σ_n per step.</summary>
        public float[] NoiseScales { get; }

        /// <summary>Consistency only: ξ_n per step, [steps, rows, D].</summary>
        public float[] Noise { get; }

        /// <summary>The final state [rows, D], overwritten by each <see cref="Run"/>.</summary>
        public float[] Output { get; }

        /// <summary>Runs every step. Cancellation stops the loop between ONNX Runtime kernels.</summary>
        /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
        public void Run(CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            runOptions.Terminate = false;
            using (ct.CanBeCanceled ? ct.Register(static o => ((RunOptions)o!).Terminate = true, runOptions) : default)
            {
                try
                {
                    owner.session.RunWithBinding(runOptions, binding);
                }
                catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
                {
                    throw new OperationCanceledException(ct);
                }
            }
            Interlocked.Add(ref owner.rowsEvaluated, (long)Rows * Steps * owner.evaluationsPerStep);
        }

        public void Dispose() => owner.Return(this);

        internal void Release()
        {
            binding.Dispose();
            runOptions.Dispose();
            foreach (var v in values) v.Dispose();
        }

        private void Bind(string name, float[] buffer, long[] shape)
        {
            var value = OrtValue.CreateTensorValueFromMemory(buffer, shape);
            values.Add(value);
            binding.BindInput(name, value);
        }
    }
}
