using System.Globalization;
using Microsoft.Extensions.Logging;
using OnnxSbi.Trainer.Training;

namespace OnnxSbi.CommandLine;

/// <summary>
/// Training progress: a live status line (epoch, batch, loss, validation loss, learning rate, ETA)
/// when stderr is a terminal, plain log lines otherwise; every epoch is logged either way. Compiled into each
/// program that trains (onnxsbi-train, onnxsbi-bench) as a linked source file: it needs the trainer's
/// observer, which OnnxSbi.CommandLine (runtime only) cannot reference, and programs do not reference each other.
/// </summary>
internal sealed class ConsoleProgress(ILogger logger, string label) : ITrainingObserver
{
    private readonly bool live = !Console.IsErrorRedirected;
    private double lastValidation = double.NaN;

    public void OnBatch(int epoch, int epochs, int batch, int batches, double runningLoss, double learningRate, TimeSpan elapsed)
    {
        if (!live) return;
        double done = ((epoch - 1) * (double)batches + batch) / ((double)epochs * batches);
        var eta = done > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - done) / done) : TimeSpan.Zero;
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r{label}: epoch {epoch}/{epochs} batch {batch}/{batches} loss {runningLoss:F4} val {lastValidation:F4} lr {learningRate:E2} ETA {eta:mm\\:ss}   "));
    }

    public void OnEpoch(EpochReport r)
    {
        lastValidation = r.ValidationLoss;
        if (live) Console.Error.Write("\r" + new string(' ', 110) + "\r");
        logger.LogInformation("{Label}: epoch {Epoch}/{Epochs} loss {Loss:F4} val_loss {ValLoss:F4} lr {Lr:E2} elapsed {Elapsed:F1}s",
            label, r.Epoch, r.Epochs, r.Loss, r.ValidationLoss, r.LearningRate, r.Elapsed.TotalSeconds);
    }
}
