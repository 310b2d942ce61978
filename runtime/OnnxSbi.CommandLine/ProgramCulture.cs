using System.Globalization;

namespace OnnxSbi.CommandLine;

/// <summary>The culture a command-line program runs in.</summary>
public static class ProgramCulture
{
    /// <summary>
    /// Makes the invariant culture the current and default culture and UI culture, so numbers are written and read
    /// the same everywhere and the parser's own messages are in English, like every message of ours, whatever the
    /// machine's language. Call first thing in <c>Main</c>.
    /// </summary>
    public static void UseInvariant()
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
    }
}
