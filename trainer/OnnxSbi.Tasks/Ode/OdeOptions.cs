namespace OnnxSbi.Tasks.Ode;

/// <summary>How <see cref="Rodas4Solver"/> controls its error and when it gives up.</summary>
/// <param name="RelativeTolerance">rtol of the local error test (see <see cref="Rodas4Solver"/>).</param>
/// <param name="AbsoluteTolerance">atol of the local error test, the same for every component.</param>
/// <param name="MaxSteps">
/// The most step attempts (accepted and rejected) one solve may take before it reports
/// <see cref="OdeStatus.MaxStepsExceeded"/>; DifferentialEquations.jl's default <c>maxiters</c> is 10⁵.
/// </param>
internal sealed record OdeOptions(double RelativeTolerance = 1e-8, double AbsoluteTolerance = 1e-8, int MaxSteps = 100_000)
{
    /// <summary>Throws when a tolerance is not a positive finite number or the step cap is below one.</summary>
    public void Validate()
    {
        if (!(RelativeTolerance > 0) || !double.IsFinite(RelativeTolerance))
            throw new ArgumentOutOfRangeException(nameof(RelativeTolerance), RelativeTolerance, "The relative tolerance must be a positive finite number.");
        if (!(AbsoluteTolerance > 0) || !double.IsFinite(AbsoluteTolerance))
            throw new ArgumentOutOfRangeException(nameof(AbsoluteTolerance), AbsoluteTolerance, "The absolute tolerance must be a positive finite number.");
        if (MaxSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "The step cap must be at least 1.");
    }
}

/// <summary>How a solve ended.</summary>
internal enum OdeStatus
{
    /// <summary>Every requested time was reached within the tolerances.</summary>
    Success,

    /// <summary>The solve took <see cref="OdeOptions.MaxSteps"/> step attempts before reaching the end time.</summary>
    MaxStepsExceeded,

    /// <summary>
    /// The step size fell below the resolution of the time variable: the solution blows up, leaves the domain
    /// where f is finite, or cannot meet the tolerances.
    /// </summary>
    StepSizeTooSmall,

    /// <summary>The initial state or its derivative is not finite.</summary>
    NonFiniteStart,
}
