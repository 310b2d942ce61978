namespace OnnxSbi.Runtime.Cli;

/// <summary>A data file that cannot be used (missing, malformed, wrong columns): printed without a stack trace, exit code 3.</summary>
internal sealed class InputException(string message) : Exception(message);

