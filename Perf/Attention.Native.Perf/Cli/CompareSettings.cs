using System.ComponentModel;
using System.Globalization;
using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Perf.Compare;
using Attention.Native.Perf.Peers;
using Attention.Native.Perf.Workloads;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>compare</c> command.</summary>
internal sealed class CompareSettings : CommandSettings
{
    [CommandOption("--threads <LIST>")]
    [Description("Comma-separated CPU thread counts, e.g. 1,2.")]
    [DefaultValue("1,2")]
    public string Threads { get; init; } = "1,2";

    [CommandOption("--backends <LIST>")]
    [Description("Comma-separated backends: cpu, cuda. Default: every backend present; naming cuda where no CUDA device is usable is an error (exit 2).")]
    public string? Backends { get; init; }

    [CommandOption("--dtypes <LIST>")]
    [Description("Comma-separated operand types: float, half, bf16 (converted from the same random floats; error tolerance 1e-5, 1.5e-3, 1e-2), int8kv (fp32 Q and O, K and V as an int8 key/value cache with a scale per (batch, KV head, key): decode shapes, CPU only; tolerance 1e-5 against the dequantised K and V), e4m3kv (the same with K and V as an fp8 e4m3 cache with a scale per KV head).")]
    [DefaultValue("float")]
    public string Dtypes { get; init; } = "float";

    [CommandOption("--paged <PAGE_SIZE>")]
    [Description("Also time every CPU decode row (int8kv and e4m3kv ones included: int8 pages with their scales in pages of their own, e4m3 pages with their per-head scales) with K and V in a paged cache of this many positions per page (pages shuffled; PagedKeyValueLayout), in both page layouts (kernel 'paged<N> nhd': a position's heads side by side, the default; 'paged<N> hnd': head-major), interleaved with the contiguous call: a row per paged twin, with paged/contig its rate over the contiguous one and its paired-read fraction counting the block table too.")]
    public int? Paged { get; init; }

    [CommandOption("--variants <LIST>")]
    [Description("Comma-separated CPU kernel variants: best, Vector512, Vector256, Vector128, Scalar. A variant this CPU lacks runs emulated (very slow) and is labelled so.")]
    [DefaultValue("best")]
    public string Variants { get; init; } = "best";

    [CommandOption("--peers <LIST>")]
    [Description("Comma-separated CPU peers timed beside the CPU backend on the same float operands, at each thread count, their runs interleaved with its runs: torch (PyTorch SDPA through TorchSharp), ort (ONNX Runtime), or none. Default: every peer that loads (one line says why another is skipped); naming one that cannot load is an error (exit 2).")]
    public string? Peers { get; init; }

    [CommandOption("--shapes <FILTER>")]
    [Description("Comma-separated substrings; keeps the shapes whose name (plus \" causal\") contains one, e.g. decode,causal.")]
    public string? Shapes { get; init; }

    [CommandOption("--quick")]
    [Description("Fewer warm-ups and timed runs (CI, tests).")]
    public bool Quick { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Folder for compare.md, compare.csv, throughput.png and speedup.png; default artifacts/perf/<yyyyMMdd-HHmmss>.")]
    public string? Out { get; init; }

    /// <summary><see cref="Out"/>, else a new time-stamped folder under <c>artifacts/perf</c>.</summary>
    public string OutputFolder => Out ?? defaultFolder;

    private readonly string defaultFolder =
        Path.Combine("artifacts", "perf", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

    [CommandOption("--seed <N>")]
    [Description("Seed of the random operands; random when omitted (it is printed).")]
    public int? Seed { get; init; }

    /// <summary>The parsed thread counts, in the order given (valid once <see cref="Validate"/> passed).</summary>
    public IReadOnlyList<int> ThreadCounts => ParseThreads(Threads) ?? [];

    public IReadOnlyList<PerfCase> Cases => PerfCatalog.Filter(Shapes);

    /// <summary>The backends asked for, or null for every one present (valid once <see cref="Validate"/> passed).</summary>
    public IReadOnlyList<AttentionBackendKind>? BackendKinds => Backends is null ? null : ParseList(Backends, ParseBackend);

    /// <summary>The peer names asked for (<see cref="PeerCatalog.Names"/>), in catalog order; null for every one that
    /// loads; empty for none (valid once <see cref="Validate"/> passed).</summary>
    public IReadOnlyList<string>? PeerNames => Peers is null ? null : ParsePeers(Peers);

    /// <summary>The operand types, in the order given.</summary>
    public IReadOnlyList<OperandType> OperandTypeList => ParseList(Dtypes, OperandTypes.Parse) ?? [];

    /// <summary>The CPU variants, in the order given; <see cref="CpuKernelVariant.Auto"/> stands for <c>best</c>.</summary>
    public IReadOnlyList<CpuKernelVariant> CpuVariants => ParseList(Variants, ParseVariant) ?? [];

    public override ValidationResult Validate()
    {
        if (ParseThreads(Threads) is null)
        {
            return ValidationResult.Error($"--threads: expected comma-separated counts from 1 to 1024, got '{Threads}'.");
        }

        if (Backends is not null && BackendKinds is not { Count: > 0 })
        {
            return ValidationResult.Error($"--backends: expected comma-separated names from cpu, cuda, got '{Backends}'.");
        }

        if (BackendKinds is { } kinds && kinds.Contains(AttentionBackendKind.Cuda) && !CudaBackend.IsAvailable(out string reason))
        {
            return ValidationResult.Error($"--backends cuda: CUDA is not available here: {reason}");
        }

        if (Peers is not null && PeerNames is null)
        {
            return ValidationResult.Error($"--peers: expected comma-separated names from {string.Join(", ", PeerCatalog.Names)}, or none, got '{Peers}'.");
        }

        foreach (string name in PeerNames ?? [])
        {
            if (PeerCatalog.Load(name, out string why) is null)
            {
                return ValidationResult.Error($"--peers {name}: it cannot run here: {why}");
            }
        }

        if (OperandTypeList.Count == 0)
        {
            return ValidationResult.Error($"--dtypes: expected comma-separated names from {string.Join(", ", OperandTypes.Names)}, got '{Dtypes}'.");
        }

        if (Paged is < 1)
        {
            return ValidationResult.Error($"--paged: expected a page size of at least 1, got {Paged}.");
        }

        if (CpuVariants.Count == 0)
        {
            return ValidationResult.Error($"--variants: expected comma-separated names from best, Vector512, Vector256, Vector128, Scalar, got '{Variants}'.");
        }

        if (Cases.Count == 0)
        {
            string names = string.Join(", ", PerfCatalog.All.Select(c => c.Name).Distinct());
            return ValidationResult.Error($"--shapes: '{Shapes}' matches no shape. Shapes: {names}.");
        }

        return ValidationResult.Success();
    }

    /// <summary>The distinct items of a comma-separated list in the order given; null when one does not parse.</summary>
    internal static List<T>? ParseList<T>(string text, Func<string, T?> parse)
        where T : struct
    {
        var items = new List<T>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (parse(part) is not { } item)
            {
                return null;
            }

            if (!items.Contains(item))
            {
                items.Add(item);
            }
        }

        return items;
    }

    /// <summary><c>none</c>, or known names (case-insensitive) in catalog order; null when one is unknown.</summary>
    private static List<string>? ParsePeers(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts is [var only] && only.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        var names = parts.Select(p => p.ToLowerInvariant()).ToList();
        return names.Count > 0 && names.All(PeerCatalog.Names.Contains) ? [.. PeerCatalog.Names.Where(names.Contains)] : null;
    }

    private static AttentionBackendKind? ParseBackend(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => AttentionBackendKind.Cpu,
        "cuda" => AttentionBackendKind.Cuda,
        _ => null,
    };

    /// <summary>A variant name (case-insensitive) or <c>best</c> (<see cref="CpuKernelVariant.Auto"/>); not numbers.</summary>
    internal static CpuKernelVariant? ParseVariant(string name) =>
        name.Equals("best", StringComparison.OrdinalIgnoreCase) ? CpuKernelVariant.Auto
        : !int.TryParse(name, out _) && Enum.TryParse<CpuKernelVariant>(name, ignoreCase: true, out var variant)
            && Enum.IsDefined(variant) && variant != CpuKernelVariant.Auto ? variant
        : null;

    internal static List<int>? ParseThreads(string text)
    {
        var counts = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count is < 1 or > 1024)
            {
                return null;
            }

            if (!counts.Contains(count))
            {
                counts.Add(count);
            }
        }

        return counts;
    }
}
