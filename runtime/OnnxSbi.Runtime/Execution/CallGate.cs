namespace OnnxSbi.Runtime;

/// <summary>
/// Lets calls into an object's native resources overlap with its <see cref="IDisposable.Dispose"/>: every call
/// enters the gate before it touches a resource and leaves it when done; <see cref="Close"/> shuts the gate to
/// new calls. The resources are released exactly once, by whichever comes last: <see cref="Close"/> itself
/// when no call is inside, else the last call to <see cref="Leave"/>. Nothing is ever released while a call
/// is inside, and <see cref="Close"/> never waits for one to finish.
/// </summary>
/// <remarks>
/// One 64-bit word holds both the number of calls inside and the closed flag, so entering, leaving and
/// closing are each a single atomic operation on it: a call can never enter between the close and the
/// release. Entering and leaving allocate nothing.
/// </remarks>
internal sealed class CallGate
{
    private const long ClosedFlag = 1L << 62;

    private readonly Action release;
    private long state;

    /// <summary>A gate whose <paramref name="release"/> frees the guarded resources; it runs once, on the thread that closes the gate or on the last one to leave it.</summary>
    public CallGate(Action release) => this.release = release;

    /// <summary>Whether <see cref="Close"/> has been called.</summary>
    public bool IsClosed => (Volatile.Read(ref state) & ClosedFlag) != 0;

    /// <summary>Calls inside the gate now.</summary>
    public long CallsInside => Volatile.Read(ref state) & (ClosedFlag - 1);

    /// <summary>Enters the gate, or returns false when it is closed. A true result must be paired with one <see cref="Leave"/>.</summary>
    public bool TryEnter()
    {
        long seen = Volatile.Read(ref state);
        while (true)
        {
            if ((seen & ClosedFlag) != 0) return false;
            long previous = Interlocked.CompareExchange(ref state, seen + 1, seen);
            if (previous == seen) return true;
            seen = previous;
        }
    }

    /// <summary>
    /// Enters the gate, or throws <see cref="ObjectDisposedException"/> naming <paramref name="owner"/> when it is
    /// closed. Disposing the returned scope leaves the gate: <c>using var call = gate.Enter(this);</c>.
    /// </summary>
    public Call Enter(object owner)
    {
        if (!TryEnter()) throw new ObjectDisposedException(owner.GetType().FullName);
        return new Call(this);
    }

    /// <summary>Leaves the gate; the last call out of a closed gate releases the resources.</summary>
    public void Leave()
    {
        long now = Interlocked.Decrement(ref state);
        // Leaving an empty gate would wrap the count to all ones (below the flag) or make the word negative.
        System.Diagnostics.Debug.Assert(now >= 0 && (now & (ClosedFlag - 1)) != ClosedFlag - 1, "CallGate.Leave without a matching enter.");
        if (now == ClosedFlag) release();
    }

    /// <summary>
    /// Closes the gate to new calls; releases the resources now when no call is inside (later, in the last
    /// <see cref="Leave"/>, otherwise). Returns false when the gate was already closed; closing twice releases once.
    /// </summary>
    public bool Close()
    {
        long previous = Interlocked.Or(ref state, ClosedFlag);
        if ((previous & ClosedFlag) != 0) return false;
        if (previous == 0) release();
        return true;
    }

    /// <summary>One call inside the gate; disposing it leaves the gate. A struct, so entering allocates nothing.</summary>
    public readonly struct Call : IDisposable
    {
        private readonly CallGate gate;

        internal Call(CallGate gate) => this.gate = gate;

        /// <summary>Leaves the gate (<see cref="CallGate.Leave"/>).</summary>
        public void Dispose() => gate.Leave();
    }
}
