using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Compilation;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>
/// What the runtime knows about one network family: the graph roles its bundles hold and how to compile them into a
/// sampler (opening the functions through a <see cref="CompilationContext"/>, choosing execution strategies).
/// </summary>
/// <param name="Family">The manifest's family.</param>
/// <param name="Roles">The graph roles a bundle of the family holds (the contract's GraphRoles.RequiredFor).</param>
/// <param name="Compile">Builds the family's sampler; the context disposes what it opened if this throws.</param>
internal sealed record NetworkFamilyDescriptor(NetworkFamily Family, IReadOnlyList<string> Roles, Func<CompilationContext, NetworkSampler> Compile);

/// <summary>
/// The network families the runtime samples, registered in one place: a new family is its own folder under Samplers/
/// (sampler, execution strategies, descriptor) plus one line here.
/// </summary>
internal static class NetworkFamilies
{
    private static readonly Dictionary<NetworkFamily, NetworkFamilyDescriptor> Registered = new[]
    {
        FlowMatchingFamily.Descriptor,
        ConsistencyFamily.Descriptor,
        CouplingFlowFamily.Descriptor,
    }.ToDictionary(d => d.Family);

    /// <summary>Every registered family.</summary>
    public static IReadOnlyCollection<NetworkFamilyDescriptor> All => Registered.Values;

    /// <summary>The descriptor of <paramref name="family"/>, or null when the runtime cannot sample it.</summary>
    public static NetworkFamilyDescriptor? Find(NetworkFamily family) => Registered.GetValueOrDefault(family);
}
