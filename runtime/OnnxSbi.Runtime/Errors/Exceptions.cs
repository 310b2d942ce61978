namespace OnnxSbi.Runtime;

/// <summary>Base type of every error OnnxSbi raises about its inputs, bundles or configuration.</summary>
public class OnnxSbiException : Exception
{
    /// <summary>Creates the exception with a message that names the problem.</summary>
    public OnnxSbiException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A variable name that is not known (or is missing), with the valid names.</summary>
public sealed class UnknownVariableException : OnnxSbiException
{
    /// <summary>Creates the exception for <paramref name="name"/>, listing <paramref name="known"/>.</summary>
    public UnknownVariableException(string name, IEnumerable<string> known, string role = "variable")
        : base($"Unknown {role} '{name}'. Known: {(known.Any() ? string.Join(", ", known.Select(k => $"'{k}'")) : "(none)")}.")
    {
        VariableName = name;
    }

    /// <summary>The name that was asked for.</summary>
    public string VariableName { get; }
}

/// <summary>An array whose shape differs from what the model or transform expects.</summary>
public sealed class ShapeMismatchException : OnnxSbiException
{
    /// <summary>Creates the exception for <paramref name="variable"/>.</summary>
    public ShapeMismatchException(string variable, string expected, string received)
        : base($"Variable '{variable}': expected shape {expected}, received {received}.")
    {
        VariableName = variable;
    }

    /// <summary>The variable whose shape is wrong.</summary>
    public string VariableName { get; }
}

/// <summary>NaN or infinity where finite numbers are required.</summary>
public sealed class NonFiniteValueException : OnnxSbiException
{
    /// <summary>Creates the exception for <paramref name="variable"/> at batch row <paramref name="row"/>.</summary>
    public NonFiniteValueException(string variable, int row, double value, string context = "")
        : base($"Variable '{variable}' has a non-finite value ({value}) at batch row {row}{(context.Length > 0 ? " " + context : "")}.")
    {
        VariableName = variable;
        Row = row;
    }

    /// <summary>The variable holding the value.</summary>
    public string VariableName { get; }

    /// <summary>The first offending batch row.</summary>
    public int Row { get; }
}

/// <summary>A request argument outside its valid range (draw counts, step counts, tolerances).</summary>
public sealed class InvalidRequestException : OnnxSbiException
{
    /// <summary>Creates the exception with a message that names the argument, its valid range and the value.</summary>
    public InvalidRequestException(string message) : base(message) { }
}

/// <summary>A bundle file that cannot be used: not a zip, missing or unknown manifest, graphs that disagree with it.</summary>
public sealed class BundleFormatException : OnnxSbiException
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public BundleFormatException(string path, string problem, Exception? inner = null)
        : base($"Bundle '{path}': {problem}", inner)
    {
        BundlePath = path;
    }

    /// <summary>The file that was read.</summary>
    public string BundlePath { get; }
}

/// <summary>An adaptive ODE integration that did not reach its end time within the allowed number of steps.</summary>
public sealed class StepLimitExceededException : OnnxSbiException
{
    /// <summary>Creates the exception for an integration from <paramref name="start"/> to <paramref name="end"/> that stopped at <paramref name="time"/>.</summary>
    public StepLimitExceededException(int maxSteps, int accepted, int rejected, double start, double end, double time, double stepSize)
        : base($"Adaptive integration from t={start:G6} to t={end:G6} exceeded MaxSteps={maxSteps} attempted steps " +
               $"({accepted} accepted, {rejected} rejected) at t={time:G6} with step size {stepSize:G3}. " +
               "Loosen Atol/Rtol, raise MaxSteps, or check the velocity field for stiffness or non-smoothness.")
    {
        MaxSteps = maxSteps;
        Time = time;
    }

    /// <summary>The step limit that was exceeded.</summary>
    public int MaxSteps { get; }

    /// <summary>The time the integration had reached when it gave up.</summary>
    public double Time { get; }
}
