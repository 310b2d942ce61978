namespace OnnxSbi.Runtime.Bundles;

/// <summary>Entry names inside a bundle zip, and the rule that keeps them inside the archive.</summary>
internal static class BundleLayout
{
    /// <summary>The protobuf JSON of the <c>BundleManifest</c>.</summary>
    public const string ManifestEntry = "manifest.json";

    /// <summary>The human-readable model card.</summary>
    public const string ModelCardEntry = "MODEL_CARD.md";

    /// <summary>Where the writer stores the graph of <paramref name="role"/>.</summary>
    public static string GraphEntry(string role) => $"graphs/{role}.onnx";

    /// <summary>
    /// Why <paramref name="name"/> is not a safe zip entry name, or null when it is. Bundles are
    /// only read into memory, but a name that could escape a target directory ("zip slip") marks a
    /// crafted archive, and tools that do extract bundles must never meet one.
    /// </summary>
    public static string? UnsafeReason(string name)
    {
        if (name.Length == 0) return "is empty";
        if (name.Contains('\\')) return "contains a backslash";
        if (name[0] == '/') return "is an absolute path";
        if (name.Contains(':')) return "contains ':' (a drive letter or stream name)";
        foreach (char c in name)
            if (char.IsControl(c)) return "contains a control character";
        string[] segments = name.Split('/');
        for (int i = 0; i < segments.Length; i++)
        {
            string s = segments[i];
            if (s == "..") return "climbs out of the archive with '..'";
            if (s == ".") return "contains a '.' path segment";
            // A trailing '/' marks a directory entry; an empty segment anywhere else is a doubled slash.
            if (s.Length == 0 && i != segments.Length - 1) return "contains an empty path segment";
        }
        return null;
    }
}
