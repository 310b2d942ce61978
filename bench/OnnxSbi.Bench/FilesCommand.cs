using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OnnxSbi.Simulations.Files;
using OnnxSbi.Trainer.Adapters;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;
using OnnxSbi.Trainer.Workflows;
using Parquet;
using Parquet.Schema;
using static TorchSharp.torch;

namespace OnnxSbi.Bench;

/// <summary>
/// <c>files</c>: training from simulations on disk at scale. <c>make</c> writes a synthetic data set of Parquet shards
/// (Gaussian linear simulations, θ and x as 10-element list columns, as a Spark job writes arrays); <c>throughput</c>
/// streams it through the trainer's file path and reports peak RSS over a full pass and training rows per second from
/// disk against the same network trained on rows held in memory, side by side in one process.
/// </summary>
internal static class FilesCommand
{
    private const int Dim = 10;

    public static Command Create()
    {
        var outDir = BenchCli.Option<string>("--out-dir", "Directory to write the shards into (created).");
        outDir.Required = true;
        var rows = BenchCli.Option<long>("--rows", "Rows in all, split evenly over the shards.", () => 12_500_000);
        var shards = BenchCli.IntOption("--shards", "Parquet files.", 25, 1, 100_000);
        var rowGroup = BenchCli.IntOption("--row-group", "Rows per Parquet row group.", 65_536, 1, 1 << 24);
        var seed = BenchCli.Option<ulong>("--seed", "Seed of the simulations.", () => 1);
        var make = new Command("make", "Writes Gaussian linear simulations (theta [10], x [10], float64 list columns) as Parquet shards.") { outDir, rows, shards, rowGroup, seed };
        make.SetAction(p => Make(p.GetValue(outDir)!, p.GetValue(rows), p.GetValue(shards), p.GetValue(rowGroup), p.GetValue(seed)));

        var data = BenchCli.Option<string>("--data", "Directory or glob of the shards.");
        data.Required = true;
        var network = BenchCli.Option<string>("--network", "Network recipe trained.", () => "flow_matching");
        var batches = BenchCli.IntOption("--batches", "Optimizer steps per timed run.", 2_000, 1, 10_000_000);
        var batchSize = BenchCli.IntOption("--batch-size", "Rows per step.", 64, 1, 1 << 20);
        var rounds = BenchCli.IntOption("--rounds", "Disk and memory runs, alternated (0: only the full pass).", 3, 0, 100);
        var scanBatch = BenchCli.IntOption("--scan-batch", "Rows per read in the full pass (0 skips the pass).", 8_192, 0, 1 << 24);
        var throughput = new Command("throughput", "Peak RSS over a full shuffled pass, then training rows/s from disk against in memory on the same network.")
        {
            data, network, batches, batchSize, rounds, scanBatch,
        };
        throughput.SetAction(p => Throughput(p.GetValue(data)!, p.GetValue(network)!, p.GetValue(batches), p.GetValue(batchSize), p.GetValue(rounds), p.GetValue(scanBatch)));
        return new Command("files", "Training from simulation files at scale: write a synthetic Parquet data set, measure memory and throughput.") { make, throughput };
    }

    private static int Make(string dir, long rows, int shards, int rowGroup, ulong seed)
    {
        Directory.CreateDirectory(dir);
        var theta = new ListField("theta", new DataField("element", typeof(double)));
        var x = new ListField("x", new DataField("element", typeof(double)));
        var schema = new ParquetSchema(theta, x);
        var clock = Stopwatch.StartNew();
        long written = 0;
        for (int s = 0; s < shards; s++)
        {
            long shardRows = rows / shards + (s < rows % shards ? 1 : 0);
            string path = Path.Combine(dir, $"part-{s:D5}.parquet");
            var random = new Random(unchecked((int)(seed * 1_000_003UL + (ulong)s)));
            Task.Run(async () =>
            {
                // Written to a temporary name and renamed, so an interrupted run leaves no torn shard behind.
                string temporary = path + ".tmp";
                await using (var file = File.Create(temporary))
                await using (var writer = await ParquetWriter.CreateAsync(schema, file))
                {
                    for (long at = 0; at < shardRows; at += rowGroup)
                    {
                        int n = (int)Math.Min(rowGroup, shardRows - at);
                        var t = new double[n * Dim];
                        var v = new double[n * Dim];
                        // Gaussian linear (sbibm): θ ~ N(0, 0.1·I), x ~ N(θ, 0.1·I).
                        for (int i = 0; i < t.Length; i++)
                        {
                            t[i] = Math.Sqrt(0.1) * Normal(random);
                            v[i] = t[i] + Math.Sqrt(0.1) * Normal(random);
                        }
                        var repetitions = Enumerable.Range(0, n * Dim).Select(i => i % Dim == 0 ? 0 : 1).ToArray();
                        using var group = writer.CreateRowGroup();
                        foreach (var (field, values) in new[] { (theta, t), (x, v) })
                        {
                            var item = (DataField)field.Item;
                            await group.WriteAllPartsAsync<double>(item, values, Enumerable.Repeat(item.MaxDefinitionLevel, values.Length).ToArray(), repetitions, default);
                        }
                    }
                }
                File.Move(temporary, path, overwrite: true);
            }).GetAwaiter().GetResult();
            written += shardRows;
            Console.Error.Write($"\r{s + 1}/{shards} shards, {written:N0} rows, {clock.Elapsed.TotalSeconds:F0} s   ");
        }
        long bytes = Directory.GetFiles(dir, "*.parquet").Sum(f => new FileInfo(f).Length);
        Console.Error.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {written:N0} rows in {shards} shards, {bytes / 1e9:F2} GB, to {dir} in {clock.Elapsed.TotalSeconds:F0} s"));
        return ExitCodes.Success;
    }

    private static double Normal(Random random)
    {
        // Box–Muller: a standard normal from two uniforms.
        double u = 1.0 - random.NextDouble(), v = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }

    private static int Throughput(string data, string networkName, int batches, int batchSize, int rounds, int scanBatch)
    {
        var inv = CultureInfo.InvariantCulture;
        var recipe = NetworkCatalog.Get(networkName);
        var files = SimulationFiles.Open([data], ["theta", "x"]);
        long bytes = files.Shards.Sum(f => new FileInfo(f).Length);
        Console.WriteLine(string.Create(inv, $"data: {files.Rows:N0} rows in {files.Shards.Count} shards, {bytes / 1e9:F2} GB; CPU: {BenchMachine.Cpu()}"));
        Console.WriteLine(string.Create(inv, $"peak RSS at start: {PeakRssMb():F0} MB"));
        using var shuffle = new SimulationShuffle(files, seed: 1);

        if (rounds > 0) TrainingRuns(shuffle, recipe, batches, batchSize, rounds);
        if (scanBatch > 0)
        {
            // A full shuffled epoch (epoch 1, so no window is cached yet) read through the window cache training uses,
            // RSS sampled along the way: after the timed runs, so its garbage does not slow them.
            var clock = Stopwatch.StartNew();
            var samples = new List<string>();
            long next = shuffle.TrainingRows / 10;
            for (long at = 0; at < shuffle.TrainingRows; at += scanBatch)
            {
                int n = (int)Math.Min(scanBatch, shuffle.TrainingRows - at);
                _ = shuffle.ReadTraining(1, at, n);
                if (at + n >= next) { samples.Add(string.Create(inv, $"{100.0 * (at + n) / shuffle.TrainingRows:F0}%: {CurrentRssMb():F0} MB")); next += shuffle.TrainingRows / 10; }
            }
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(inv, $"full pass: {shuffle.TrainingRows:N0} rows in {seconds:F1} s ({shuffle.TrainingRows / seconds:N0} rows/s); RSS {string.Join(", ", samples)}"));
            Console.WriteLine(string.Create(inv, $"peak RSS after the full pass: {PeakRssMb():F0} MB"));
        }

        return ExitCodes.Success;
    }

    /// <summary>Warm-up, then <paramref name="rounds"/> alternated disk and memory runs of the same network on the same rows.</summary>
    private static void TrainingRuns(SimulationShuffle shuffle, NetworkRecipe recipe, int batches, int batchSize, int rounds)
    {
        var inv = CultureInfo.InvariantCulture;
        // The adapter and the network-side rows exactly as training from files makes them; this workflow builds no network.
        using var workflow = new BasicWorkflow(new AdapterRecipe(["theta"], ["x"]).Build(), ["theta"], ["x"], (_, _) => throw new InvalidOperationException("no network is built here"));
        workflow.FitAdapter(shuffle.ReadTraining(0, 0, (int)Math.Min(BasicWorkflow.DefaultAdapterFitRows, shuffle.TrainingRows)));
        Func<Runtime.ArrayBatch, NetworkData> adapt = workflow.ToNetwork;
        var options = new TrainingOptions { Epochs = 1, BatchSize = batchSize, BatchesPerEpoch = batches, Seed = 1 };
        long memoryRows = Math.Min(shuffle.TrainingRows, (long)batches * batchSize);
        // libtorch's first steps (kernel selection, allocator pools) are slower: one untimed short run first, and
        // the RSS it leaves is the baseline the disk runs add to.
        var held = adapt(shuffle.ReadTraining(0, 0, (int)memoryRows));
        using (var warm = new OfflineSource(held)) Train(recipe, new Limited(warm, Math.Min(200, batches)), options, Math.Min(200, batches));
        Train(recipe, new Limited(new FileSource(shuffle, adapt), Math.Min(200, batches)), options, Math.Min(200, batches));
        Console.WriteLine(string.Create(inv, $"RSS after libtorch warm-up, {memoryRows:N0} rows in memory: {CurrentRssMb():F0} MB (peak {PeakRssMb():F0} MB)"));
        var disk = new List<double>();
        var memory = new List<double>();
        double diskRss = 0;
        for (int r = 0; r < rounds; r++)
        {
            // Alternate which runs first, so a drift in the machine's load does not favour one side.
            foreach (bool fromDisk in r % 2 == 0 ? new[] { true, false } : [false, true])
            {
                if (fromDisk)
                {
                    disk.Add(Train(recipe, new Limited(new FileSource(shuffle, adapt), batches), options, batches));
                    diskRss = Math.Max(diskRss, CurrentRssMb());
                }
                else
                {
                    using var offline = new OfflineSource(held);
                    memory.Add(Train(recipe, new Limited(offline, batches), options, batches));
                }
            }
            Console.WriteLine(string.Create(inv, $"round {r + 1}: disk {disk[^1]:N0} rows/s, memory {memory[^1]:N0} rows/s"));
        }
        double d = Median(disk), m = Median(memory);
        Console.WriteLine(string.Create(inv, $"disk runs: {string.Join(", ", disk.Select(v => v.ToString("N0", inv)))}; memory runs: {string.Join(", ", memory.Select(v => v.ToString("N0", inv)))}"));
        Console.WriteLine(string.Create(inv, $"{recipe.Name}, batch {batchSize}, {batches} steps per run: disk {d:N0} rows/s, memory {m:N0} rows/s (medians of {rounds}); disk/memory = {d / m:F3}"));
        Console.WriteLine(string.Create(inv, $"RSS at the end of the disk runs (max): {diskRss:F0} MB; peak RSS of the process: {PeakRssMb():F0} MB"));
    }

    /// <summary>Trains a fresh network of the recipe for the source's batches and returns training rows per second.</summary>
    private static double Train(NetworkRecipe recipe, TrainingSource source, TrainingOptions options, int batches)
    {
        random.manual_seed(1);
        using var network = recipe.Build(Dim, Dim, new NetworkOverrides(TotalSteps: batches));
        var history = NetworkTrainer.Fit(network, source, validation: null, options);
        return (double)batches * options.BatchSize / history.Seconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }

    private static double PeakRssMb() => StatusKb("VmHWM:") / 1024.0;

    private static double CurrentRssMb() => StatusKb("VmRSS:") / 1024.0;

    private static long StatusKb(string key)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return 0;
    }

    /// <summary>The first <c>batches</c> batches of each epoch of a source: a timed run of fixed length.</summary>
    private sealed class Limited(TrainingSource inner, int batches) : TrainingSource
    {
        public override string Mode => inner.Mode;

        public override int BatchesPerEpoch(TrainingOptions options) => Math.Min(batches, inner.BatchesPerEpoch(options));

        public override long SimulationsPerEpoch(TrainingOptions options) => (long)BatchesPerEpoch(options) * options.BatchSize;

        public override (Tensor Theta, Tensor Conditions) Batch(int epoch, int batch, TrainingOptions options) => inner.Batch(epoch, batch, options);
    }
}
