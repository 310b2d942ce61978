using System.Runtime.CompilerServices;

// The numerical internals (integrator workspaces, tableaus, the classifier) are tested directly
// rather than widened to public API.
[assembly: InternalsVisibleTo("OnnxSbi.Runtime.Tests")]
