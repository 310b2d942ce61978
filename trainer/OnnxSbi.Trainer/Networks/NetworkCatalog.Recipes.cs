namespace OnnxSbi.Trainer.Networks;

public static partial class NetworkCatalog
{
    private static readonly NetworkRecipe[] Recipes = [FlowMatchingSeed, ConsistencyModelSeed, AffineCouplingFlowSeed, SplineCouplingFlowSeed];
}
