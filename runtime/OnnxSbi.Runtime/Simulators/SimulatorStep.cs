namespace OnnxSbi.Runtime.Simulators;

/// <summary>
/// One stage of a composed simulator, such as a prior or a likelihood: reads earlier outputs from
/// <paramref name="context"/> and writes its own, for a whole batch at once.
/// </summary>
/// <param name="context">The batch being simulated; valid only during the call.</param>
public delegate void SimulatorStep(SimulationContext context);
