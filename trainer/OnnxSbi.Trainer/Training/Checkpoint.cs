using System.IO.Compression;
using System.Text.Json;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.IO;
using OnnxSbi.Trainer.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Training;

/// <summary>
/// One training checkpoint: model parameters, optimizer state, the training and global generators' states and the history,
/// in one zip written through <see cref="AtomicFile"/>, so a kill at any instant leaves either the previous
/// checkpoint or the new one, never a torn file.
/// </summary>
internal static class Checkpoint
{
    public static void Save(string path, PosteriorNetwork network, TorchSharp.Modules.OptimizerHelper optimizer, Generator generator, TrainingHistory history, byte[]? best = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.Write(path, file =>
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true);
            WriteEntry(zip, "history.json", s => JsonSerializer.Serialize(s, history));
            WriteEntry(zip, "model.bin", s => { using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true); network.save(w); });
            // With early stopping: the weights of the best validation epoch so far, which training ends with.
            if (best is not null) WriteEntry(zip, "best_model.bin", s => s.Write(best));
            WriteEntry(zip, "optimizer.bin", s => { using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true); optimizer.save_state_dict(w); });
            WriteEntry(zip, "generator.bin", s =>
            {
                using var state = generator.get_state();
                var bytes = state.data<byte>().ToArray();
                s.Write(bytes);
            });
            // Dropout masks draw from libtorch's global generator, not the training generator;
            // without its state a resumed run would see different masks than an uninterrupted one.
            WriteEntry(zip, "global_generator.bin", s =>
            {
                using var state = torch.random.get_rng_state();
                s.Write(state.data<byte>().ToArray());
            });
        });
    }

    public static (TrainingHistory History, byte[]? Best) Load(string path, PosteriorNetwork network, TorchSharp.Modules.OptimizerHelper optimizer, Generator generator)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            TrainingHistory history = JsonSerializer.Deserialize<TrainingHistory>(ReadEntry(zip, path, "history.json"))
                ?? throw new OnnxSbiException($"Checkpoint '{path}': history.json is empty.");
            using (var r = new BinaryReader(new MemoryStream(ReadEntry(zip, path, "model.bin")))) network.load(r);
            using (var r = new BinaryReader(new MemoryStream(ReadEntry(zip, path, "optimizer.bin")))) optimizer.load_state_dict(r);
            byte[] g = ReadEntry(zip, path, "generator.bin");
            using (var state = tensor(g, dtype: ScalarType.Byte)) generator.set_state(state);
            // Optional: a checkpoint without the global generator's state leaves torch's global generator as it is.
            if (zip.GetEntry("global_generator.bin") is not null)
                using (var state = tensor(ReadEntry(zip, path, "global_generator.bin"), dtype: ScalarType.Byte)) torch.random.set_rng_state(state);
            byte[]? best = zip.GetEntry("best_model.bin") is not null ? ReadEntry(zip, path, "best_model.bin") : null;
            return (history, best);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or JsonException or ArgumentException)
        {
            throw new OnnxSbiException($"Checkpoint '{path}' cannot be resumed from: {e.Message} A checkpoint resumes only a network of the same shape (network, --widths, recipe) as the one that wrote it. Delete it to start over.", e);
        }
    }

    private static void WriteEntry(ZipArchive zip, string name, Action<Stream> write)
    {
        using var s = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        write(s);
    }

    private static byte[] ReadEntry(ZipArchive zip, string path, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"entry '{name}' is missing.");
        using var s = entry.Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
