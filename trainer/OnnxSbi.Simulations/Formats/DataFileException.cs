using OnnxSbi.Runtime;

namespace OnnxSbi.Simulations.Formats;

/// <summary>A data file (or a simulator's response) that cannot be read as asked: the message names the file, the variable and the problem.</summary>
public sealed class DataFileException : OnnxSbiException
{
    /// <summary>Creates the exception for <paramref name="source"/> (a path, or a description such as "simulator response").</summary>
    public DataFileException(string source, string problem, Exception? inner = null)
        : base($"{source}: {problem}", inner)
    {
        Source = source;
    }

    /// <summary>The file or stream the problem is in.</summary>
    public new string Source { get; }
}
