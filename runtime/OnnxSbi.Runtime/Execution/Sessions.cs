using Microsoft.ML.OnnxRuntime;

namespace OnnxSbi.Runtime.Execution;

/// <summary>Creates ONNX Runtime sessions with the requested provider and threading.</summary>
internal static class Sessions
{
    private static readonly Lazy<string?> CudaMissing = new(() =>
    {
        try
        {
            using var options = new SessionOptions();
            options.AppendExecutionProvider_CUDA(0);
            return null;
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return e.Message.Split('\n')[0];
        }
    });

    /// <summary>Why ONNX Runtime cannot use the CUDA provider here (no GPU, driver or CUDA libraries), or null when it can.</summary>
    public static string? CudaUnavailableReason => CudaMissing.Value;

    public static (InferenceSession Session, ExecutionProvider Provider) Create(
        string path, byte[] model, ExecutionProvider provider, int deviceId, bool fallbackToCpu, int intraOpThreads, bool allowSpinning)
    {
        if (provider == ExecutionProvider.Cuda)
        {
            try
            {
                using var cuda = Options(intraOpThreads, allowSpinning);
                cuda.AppendExecutionProvider_CUDA(deviceId);
                return (new InferenceSession(model, cuda), ExecutionProvider.Cuda);
            }
            catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                if (!fallbackToCpu)
                    throw new OnnxSbiException($"Bundle '{path}': the CUDA execution provider is not available ({e.Message}). Use the CPU provider, or install a GPU build of ONNX Runtime with CUDA.", e);
            }
        }
        try
        {
            using var cpu = Options(intraOpThreads, allowSpinning);
            return (new InferenceSession(model, cpu), ExecutionProvider.Cpu);
        }
        catch (OnnxRuntimeException e)
        {
            throw new BundleFormatException(path, $"ONNX Runtime cannot load a graph: {e.Message}", e);
        }
    }

    private static SessionOptions Options(int intraOpThreads, bool allowSpinning)
    {
        var o = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            // Errors only: on CUDA every session otherwise prints warnings that ONNX Runtime placed shape
            // computations on the CPU (its own choice, nothing the caller can act on).
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (intraOpThreads > 0) o.IntraOpNumThreads = intraOpThreads;
        o.AddSessionConfigEntry("session.intra_op.allow_spinning", allowSpinning ? "1" : "0");
        return o;
    }
}
