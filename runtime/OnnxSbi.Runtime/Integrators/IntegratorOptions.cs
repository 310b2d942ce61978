namespace OnnxSbi.Runtime.Integrators;

/// <summary>The ODE integration method used to sample flow-matching models.</summary>
public enum IntegratorKind
{
    /// <summary>Explicit Euler with <see cref="SamplingOptions.Steps"/> fixed steps (BayesFlow 2.0.0–2.0.6 default, 100 steps).</summary>
    Euler,

    /// <summary>Classical fourth-order Runge–Kutta with fixed steps; 4 evaluations per step.</summary>
    Rk4,

    /// <summary>Adaptive Dormand–Prince 5(4) (BayesFlow "rk45"); 6 new evaluations per accepted step.</summary>
    Dopri5,

    /// <summary>Adaptive Tsitouras 5(4) (BayesFlow 2.0.8+ default "tsit5"); 6 new evaluations per accepted step.</summary>
    Tsit5,
}

/// <summary>
/// How to integrate: the method, the step count of fixed-step methods, and the tolerances and step
/// limits of adaptive ones. Defaults follow BayesFlow 2.0.8+ (docs/algorithms.md#ode-integrators).
/// </summary>
/// <param name="Kind">The integration method.</param>
/// <param name="Steps">Number of equal steps of <see cref="IntegratorKind.Euler"/> and <see cref="IntegratorKind.Rk4"/>; at least 1.</param>
/// <param name="Atol">Absolute error tolerance of adaptive methods; not negative.</param>
/// <param name="Rtol">Relative error tolerance of adaptive methods; not negative, and Atol + Rtol &gt; 0.</param>
/// <param name="MinSteps">Adaptive methods take at least this many steps: the step size never exceeds |t1 − t0| / MinSteps.</param>
/// <param name="MaxSteps">Adaptive methods give up (with <see cref="StepLimitExceededException"/>) after this many attempted steps, accepted plus rejected.</param>
internal sealed record IntegratorOptions(
    IntegratorKind Kind,
    int Steps = 100,
    double Atol = 1e-6,
    double Rtol = 1e-4,
    int MinSteps = 50,
    int MaxSteps = 10_000)
{
    /// <summary>True for the methods with error control and a variable step size.</summary>
    public bool IsAdaptive => Kind is IntegratorKind.Dopri5 or IntegratorKind.Tsit5;

    /// <summary>Throws <see cref="InvalidRequestException"/> naming the first option outside its valid range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind))
            throw new InvalidRequestException($"Integrator option 'Kind' must be one of {IntegratorKinds.ValidNames}; received {(int)Kind}.");
        if (Steps < 1)
            throw new InvalidRequestException($"Integrator option 'Steps' must be at least 1; received {Steps}.");
        if (!(Atol >= 0) || double.IsInfinity(Atol))
            throw new InvalidRequestException($"Integrator option 'Atol' must be a finite number >= 0; received {Atol}.");
        if (!(Rtol >= 0) || double.IsInfinity(Rtol))
            throw new InvalidRequestException($"Integrator option 'Rtol' must be a finite number >= 0; received {Rtol}.");
        if (Atol + Rtol <= 0)
            throw new InvalidRequestException($"Integrator options 'Atol' and 'Rtol' must not both be 0; received Atol={Atol}, Rtol={Rtol}.");
        if (MinSteps < 1)
            throw new InvalidRequestException($"Integrator option 'MinSteps' must be at least 1; received {MinSteps}.");
        if (MaxSteps < MinSteps)
            throw new InvalidRequestException($"Integrator option 'MaxSteps' must be at least MinSteps ({MinSteps}); received {MaxSteps}.");
    }
}

/// <summary>The textual names of <see cref="IntegratorKind"/>, as BayesFlow users write them.</summary>
public static class IntegratorKinds
{
    /// <summary>The accepted names, for error messages and help text.</summary>
    public const string ValidNames = "'euler', 'rk4', 'dopri5' (alias 'rk45'), 'tsit5'";

    /// <summary>
    /// Parses a method name, case-insensitively: "euler", "rk4", "dopri5" or its BayesFlow alias "rk45",
    /// "tsit5". Throws <see cref="InvalidRequestException"/> listing the valid names otherwise.
    /// </summary>
    public static IntegratorKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryParse(name, out var kind)
            ? kind
            : throw new InvalidRequestException($"Unknown integrator '{name}'. Valid names: {ValidNames}.");
    }

    /// <summary>Parses like <see cref="Parse"/> but returns false instead of throwing.</summary>
    public static bool TryParse(string? name, out IntegratorKind kind)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "euler": kind = IntegratorKind.Euler; return true;
            case "rk4": kind = IntegratorKind.Rk4; return true;
            case "dopri5" or "rk45": kind = IntegratorKind.Dopri5; return true;
            case "tsit5": kind = IntegratorKind.Tsit5; return true;
            default: kind = default; return false;
        }
    }

    /// <summary>The canonical name of <paramref name="kind"/> ("euler", "rk4", "dopri5", "tsit5").</summary>
    public static string ToName(IntegratorKind kind) => kind switch
    {
        IntegratorKind.Euler => "euler",
        IntegratorKind.Rk4 => "rk4",
        IntegratorKind.Dopri5 => "dopri5",
        IntegratorKind.Tsit5 => "tsit5",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Expected one of {ValidNames}."),
    };
}

/// <summary>What one integration cost.</summary>
/// <param name="Steps">Accepted steps.</param>
/// <param name="RejectedSteps">Steps rejected by the error control (always 0 for fixed-step methods).</param>
/// <param name="FunctionEvaluations">Calls to <see cref="IOdeSystem.Evaluate"/>, i.e. network runs.</param>
internal readonly record struct IntegrationStats(int Steps, int RejectedSteps, int FunctionEvaluations);
