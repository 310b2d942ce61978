using System.Buffers.Binary;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace OnnxSbi.Simulations.External;

/// <summary>
/// One running simulator child: writes requests to its standard input, reads length-prefixed responses from its
/// standard output, and forwards its standard error to the log while keeping the last lines for error messages.
/// Owns the process; one request at a time.
/// </summary>
internal sealed class SimulatorProcess : IDisposable
{
    /// <summary>Lines of standard error kept for error messages.</summary>
    internal const int KeptLines = 20;

    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(5);
    private readonly Process process;
    private readonly Stream input;
    private readonly Stream output;
    private readonly Queue<string> tail = new();
    private readonly ExternalSimulatorOptions options;

    private SimulatorProcess(Process process, ExternalSimulatorOptions options, int worker)
    {
        this.process = process;
        this.options = options;
        Worker = worker;
        Id = process.Id;
        input = process.StandardInput.BaseStream;
        output = process.StandardOutput.BaseStream;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (tail)
            {
                tail.Enqueue(e.Data);
                if (tail.Count > KeptLines) tail.Dequeue();
            }
            options.Logger?.LogInformation("simulator {Worker}: {Line}", worker, e.Data);
        };
        process.BeginErrorReadLine();
    }

    /// <summary>The worker slot this child serves (0-based); the child sees it as ONNXSBI_SIMULATOR_WORKER.</summary>
    public int Worker { get; }

    /// <summary>The operating-system process id of the started process (the shell, or the simulator the shell became).</summary>
    public int Id { get; }

    /// <summary>Starts the command through the platform's shell.</summary>
    /// <exception cref="ExternalSimulatorException">The shell itself cannot be started.</exception>
    public static SimulatorProcess Start(ExternalSimulatorOptions options, int worker)
    {
        var info = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("cmd.exe") { Arguments = $"/d /s /c \"{options.Command}\"" }
            : new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", options.Command } };
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.WorkingDirectory = options.WorkingDirectory ?? "";
        info.Environment["ONNXSBI_SIMULATOR_WORKER"] = worker.ToString(CultureInfo.InvariantCulture);
        try
        {
            var process = Process.Start(info) ?? throw new Win32Exception($"no process was started for {info.FileName}");
            return new SimulatorProcess(process, options, worker);
        }
        catch (Win32Exception e)
        {
            throw new ExternalSimulatorException(options.Command, $"Cannot start the simulator '{options.Command}' through {info.FileName}: {e.Message}", [], e);
        }
    }

    /// <summary>The request line of protocol version 1.</summary>
    public static string RequestLine(int batchSize, ulong seed)
        => string.Create(CultureInfo.InvariantCulture, $"{{\"protocol\": 1, \"batch_size\": {batchSize}, \"seed\": {seed}}}");

    /// <summary>The last lines the child wrote to standard error.</summary>
    public IReadOnlyList<string> StandardErrorTail()
    {
        lock (tail) return [.. tail];
    }

    /// <summary>
    /// Sends one request and returns the response's bytes (the NPZ archive, without the length prefix). Returns promptly
    /// when <paramref name="token"/> fires, even where the platform cannot cancel a pipe read; the child is then out of
    /// step and must be stopped.
    /// </summary>
    /// <exception cref="SimulatorFailedException">The child died, closed a pipe, or stopped mid-response (worth a retry).</exception>
    /// <exception cref="ExternalSimulatorException">The child wrote something that is not a response (not worth a retry).</exception>
    public async Task<byte[]> RequestAsync(int batchSize, ulong seed, CancellationToken token)
    {
        byte[] request = Encoding.UTF8.GetBytes(RequestLine(batchSize, seed) + "\n");
        try
        {
            await input.WriteAsync(request, token).AsTask().WaitAsync(token).ConfigureAwait(false);
            await input.FlushAsync(token).WaitAsync(token).ConfigureAwait(false);
        }
        catch (IOException)
        {
            throw new SimulatorFailedException($"{await ExitDescriptionAsync().ConfigureAwait(false)} before it read the request");
        }
        catch (ObjectDisposedException)
        {
            throw new SimulatorFailedException($"{await ExitDescriptionAsync().ConfigureAwait(false)} before it read the request");
        }

        var prefix = new byte[8];
        int got = await ReadAsync(prefix, token).ConfigureAwait(false);
        if (got == 0)
            throw new SimulatorFailedException($"{await ExitDescriptionAsync().ConfigureAwait(false)} without answering");
        if (got < prefix.Length)
            throw new SimulatorFailedException($"{await ExitDescriptionAsync().ConfigureAwait(false)} after writing {got} byte(s) of the 8-byte length prefix: {Quote(prefix.AsSpan(0, got))}");
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length > (ulong)options.MaxResponseBytes)
            throw Refused(batchSize, seed, $"a length prefix of {length} bytes, more than the limit of {options.MaxResponseBytes} (MaxResponseBytes). " +
                $"The first bytes on its standard output were {Quote(prefix)}{(LooksLikeText(prefix) ? ", which look like text: the simulator printed to standard output" : "")}. " +
                "A response is an 8-byte little-endian length followed by that many bytes of NPZ; anything else the simulator prints must go to standard error.");
        var payload = new byte[length];
        got = await ReadAsync(payload, token).ConfigureAwait(false);
        if (got < payload.Length)
            throw new SimulatorFailedException($"{await ExitDescriptionAsync().ConfigureAwait(false)} after writing {got} of the {length} bytes it announced");
        if (!IsZip(payload))
            throw Refused(batchSize, seed, $"{length} bytes that are not an NPZ (zip) archive: they start with {Quote(payload.AsSpan(0, Math.Min(32, payload.Length)))} " +
                $"after the length prefix {Quote(prefix)}. A response is an 8-byte little-endian length followed by the bytes numpy.savez writes; " +
                "anything else the simulator prints must go to standard error.");
        return payload;
    }

    /// <summary>Closes the child's standard input (asking it to exit), waits up to the shutdown grace, then kills its process tree.</summary>
    public async Task StopAsync()
    {
        try { input.Close(); }
        catch (IOException) { /* the child already closed its end */ }
        using var grace = new CancellationTokenSource(options.ShutdownGrace);
        try { await process.WaitForExitAsync(grace.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { await KillAsync().ConfigureAwait(false); }
    }

    /// <summary>Kills the child's process tree at once and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        Kill();
        using var wait = new CancellationTokenSource(ExitWait);
        try { await process.WaitForExitAsync(wait.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { /* still exiting 5 s after the tree kill; nothing more can be done from here */ }
    }

    /// <summary>Kills the child's process tree without waiting (for process exit, where there is no time to wait).</summary>
    public void Kill()
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already exited */ }
        catch (Win32Exception) { /* exiting while being killed */ }
    }

    /// <summary>Releases the process handle; the child should be stopped first.</summary>
    public void Dispose()
    {
        Kill();
        process.Dispose();
    }

    /// <summary>How the child ended, after waiting briefly for it to exit (and for its standard error to drain).</summary>
    private async Task<string> ExitDescriptionAsync()
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            return $"exited with code {process.ExitCode}";
        }
        catch (OperationCanceledException)
        {
            return "closed its standard output";
        }
    }

    private ExternalSimulatorException Refused(int batchSize, ulong seed, string what)
        => new(options.Command, $"The simulator '{options.Command}' (worker {Worker}) answered the request {RequestLine(batchSize, seed)} with {what}", StandardErrorTail());

    /// <summary>Fills <paramref name="buffer"/> unless the stream ends first; returns the bytes read.</summary>
    private async Task<int> ReadAsync(byte[] buffer, CancellationToken token)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                // WaitAsync: return on cancellation even where the pipe read itself cannot be cancelled.
                int n = await output.ReadAsync(buffer.AsMemory(total), token).AsTask().WaitAsync(token).ConfigureAwait(false);
                if (n == 0) break;
                total += n;
            }
        }
        catch (IOException) { /* a broken pipe reads as the end of the stream */ }
        return total;
    }

    private static bool IsZip(ReadOnlySpan<byte> bytes)
        => bytes.Length >= 4 && bytes[0] == (byte)'P' && bytes[1] == (byte)'K' && ((bytes[2] == 3 && bytes[3] == 4) || (bytes[2] == 5 && bytes[3] == 6));

    private static bool LooksLikeText(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) if (b is not ((>= 0x20 and < 0x7F) or (byte)'\n' or (byte)'\r' or (byte)'\t')) return false;
        return true;
    }

    /// <summary>Bytes as hex with their printable ASCII: <c>48 65 6c 6c ("Hell")</c>.</summary>
    internal static string Quote(ReadOnlySpan<byte> bytes)
    {
        var hex = new StringBuilder();
        var text = new StringBuilder();
        foreach (byte b in bytes)
        {
            if (hex.Length > 0) hex.Append(' ');
            hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            text.Append(b switch { (byte)'\n' => "\\n", (byte)'\r' => "\\r", >= 0x20 and < 0x7F => ((char)b).ToString(), _ => "." });
        }
        return $"{hex} (\"{text}\")";
    }
}

/// <summary>A child that died or closed a pipe mid-request: the request is retried on a fresh child while retries remain.</summary>
internal sealed class SimulatorFailedException(string reason) : Exception(reason);
