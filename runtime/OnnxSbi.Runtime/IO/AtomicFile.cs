namespace OnnxSbi.Runtime.IO;

/// <summary>
/// Writes a file so that readers see either the old file or the whole new one, never part of it, and so that the new
/// one survives a crash once the call returns: the bytes go to a uniquely named temporary sibling, are flushed to the
/// device (fsync), and the sibling is renamed over the target (atomic on one file system); the directory entry is then
/// flushed where the platform allows. On any failure the temporary file is removed and the old file is left intact.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes the file by calling <paramref name="write"/> on a stream that it must not dispose.</summary>
    /// <param name="path">The target, in an existing directory (a missing one is an error, not created silently).</param>
    /// <param name="write">Writes the whole content; an exception from it leaves the old file as it was.</param>
    /// <exception cref="IOException">The file system failed; the target is unchanged.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{full}' has no parent directory.", nameof(path));
        // Same directory as the target, so the rename stays on one file system; a unique name, so concurrent writers
        // of the same target never share a temporary file.
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        FlushDirectory(directory);
    }

    /// <summary>Writes <paramref name="bytes"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark, atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });
    }

    /// <summary>
    /// Makes the rename itself durable: on POSIX systems a new directory entry reaches the disk only when the
    /// directory is synced. Windows has no directory handle to flush, and a file system that refuses is left as is.
    /// </summary>
    private static void FlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.None);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
