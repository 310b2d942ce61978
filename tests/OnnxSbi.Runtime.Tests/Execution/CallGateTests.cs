namespace OnnxSbi.Runtime.Tests.Execution;

/// <summary>
/// The gate between a model's calls and its disposal: the resources are released exactly once, never while a
/// call is inside, by the close when the gate is empty and by the last call out otherwise.
/// </summary>
public sealed class CallGateTests
{
    private sealed class Counter
    {
        public int Releases;
        public void Release() => Interlocked.Increment(ref Releases);
    }

    [Fact]
    public void Close_WithNoCallInside_ReleasesBeforeReturning()
    {
        var counter = new Counter();
        var gate = new CallGate(counter.Release);
        using (gate.Enter(this)) { }
        Assert.True(gate.Close());
        Assert.Equal(1, counter.Releases);
        Assert.True(gate.IsClosed);
    }

    [Fact]
    public void Close_WithCallsInside_ReleasesWhenTheLastOneLeaves()
    {
        var counter = new Counter();
        var gate = new CallGate(counter.Release);
        var first = gate.Enter(this);
        var second = gate.Enter(this);
        Assert.True(gate.Close());
        Assert.Equal(0, counter.Releases);
        Assert.Equal(2, gate.CallsInside);
        first.Dispose();
        Assert.Equal(0, counter.Releases);
        second.Dispose();
        Assert.Equal(1, counter.Releases);
        Assert.Equal(0, gate.CallsInside);
    }

    [Fact]
    public void Enter_AfterClose_ThrowsObjectDisposedNamingTheOwner()
    {
        var counter = new Counter();
        var gate = new CallGate(counter.Release);
        gate.Close();
        var e = Assert.Throws<ObjectDisposedException>(() => gate.Enter(this));
        Assert.Equal(typeof(CallGateTests).FullName, e.ObjectName);
        Assert.False(gate.TryEnter());
        Assert.Equal(0, gate.CallsInside);
        Assert.Equal(1, counter.Releases);
    }

    [Fact]
    public void Close_Twice_ReleasesOnce()
    {
        var counter = new Counter();
        var gate = new CallGate(counter.Release);
        var call = gate.Enter(this);
        Assert.True(gate.Close());
        Assert.False(gate.Close());
        call.Dispose();
        Assert.False(gate.Close());
        Assert.Equal(1, counter.Releases);
    }

    [Fact]
    public void Close_WhileFourThreadsEnterAndLeave_ReleasesOnceAndNeverWithACallInside()
    {
        // 50 rounds of 4 threads entering and leaving as fast as they can while the gate closes at a varying
        // moment: a release that ran with a call inside would be seen by that call, and a second release counted.
        for (int round = 0; round < 50; round++)
        {
            int released = 0, releases = 0, seenReleasedInside = 0, calls = 0;
            var gate = new CallGate(() => { Interlocked.Increment(ref releases); Volatile.Write(ref released, 1); });
            using var ready = new CountdownEvent(4);
            var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                ready.Signal();
                while (gate.TryEnter())
                {
                    if (Volatile.Read(ref released) != 0) Interlocked.Increment(ref seenReleasedInside);
                    Interlocked.Increment(ref calls);
                    Thread.SpinWait(50);
                    if (Volatile.Read(ref released) != 0) Interlocked.Increment(ref seenReleasedInside);
                    gate.Leave();
                }
            })).ToList();
            foreach (var t in threads) t.Start();
            ready.Wait();
            Thread.SpinWait(round * 400);
            gate.Close();
            foreach (var t in threads) t.Join();
            Assert.Equal(1, releases);
            Assert.Equal(0, seenReleasedInside);
            Assert.Equal(0, gate.CallsInside);
        }
    }
}
