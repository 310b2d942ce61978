namespace OnnxSbi.Bench;

/// <summary>What the verbs record of the machine a measurement ran on.</summary>
internal static class BenchMachine
{
    /// <summary>
    /// The CPU as /proc/cpuinfo names it, with its family and model numbers and whether it has AVX-512: virtual
    /// machines of one size can land on different CPU generations, and numbers are only comparable on the same one.
    /// </summary>
    public static string Cpu()
    {
        if (!File.Exists("/proc/cpuinfo")) return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        string name = "?", family = "?", model = "?";
        bool avx512 = false;
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) { if (line.Length == 0) break; continue; }
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            if (key == "model name") name = value;
            else if (key == "cpu family") family = value;
            else if (key == "model") model = value;
            else if (key == "flags") avx512 = value.Split(' ').Contains("avx512f");
        }
        return $"{name} (family {family}, model {model}; {(avx512 ? "AVX-512" : "AVX2, no AVX-512")}), {Environment.ProcessorCount} logical CPUs";
    }
}
