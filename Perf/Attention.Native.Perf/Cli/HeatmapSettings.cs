using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>heatmap</c> command.</summary>
internal sealed class HeatmapSettings : CommandSettings
{
    [CommandOption("--out <FILE>")]
    [Description("The PNG to write; default artifacts/perf/heatmap-<yyyyMMdd-HHmmss>.png.")]
    public string? Out { get; init; }

    [CommandOption("--head <N>")]
    [Description("The head whose weights are drawn, 0-based.")]
    [DefaultValue(0)]
    public int Head { get; init; }

    [CommandOption("--heads <N>")]
    [Description("Number of heads computed.")]
    [DefaultValue(2)]
    public int Heads { get; init; } = 2;

    [CommandOption("--causal")]
    [Description("Apply a causal mask (top-left aligned: query i sees keys 0..i).")]
    public bool Causal { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of the pseudo-embeddings (case study) or of the random inputs (--random).")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--query <TOKENS>")]
    [Description("Space-separated query tokens of the case study.")]
    [DefaultValue(Charts.CaseStudy.DefaultQuery)]
    public string Query { get; init; } = Charts.CaseStudy.DefaultQuery;

    [CommandOption("--key <TOKENS>")]
    [Description("Space-separated key tokens of the case study.")]
    [DefaultValue(Charts.CaseStudy.DefaultKey)]
    public string Key { get; init; } = Charts.CaseStudy.DefaultKey;

    [CommandOption("--random")]
    [Description("Random Q, K, V in ±[[0.05, 1]] of --lq × --lk instead of the token case study (axes labelled with indices).")]
    public bool Random { get; init; }

    [CommandOption("--lq <N>")]
    [Description("Query length with --random.")]
    [DefaultValue(16)]
    public int QueryLength { get; init; } = 16;

    [CommandOption("--lk <N>")]
    [Description("Key length with --random.")]
    [DefaultValue(16)]
    public int KeyLength { get; init; } = 16;

    [CommandOption("--dim <N>")]
    [Description("Head dimension D.")]
    [DefaultValue(64)]
    public int Dim { get; init; } = 64;

    [CommandOption("--font <FILE>")]
    [Description("A font file with CJK glyphs for the token labels (by default the usual font folders are searched).")]
    public string? Font { get; init; }

    public IReadOnlyList<string> QueryTokens => Tokens(Query);

    public IReadOnlyList<string> KeyTokens => Tokens(Key);

    public override ValidationResult Validate()
    {
        if (Heads is < 1 or > 64)
        {
            return ValidationResult.Error($"--heads: expected 1 to 64, got {Heads}.");
        }

        if (Head < 0 || Head >= Heads)
        {
            return ValidationResult.Error($"--head: expected 0 to {Heads - 1} (--heads {Heads}), got {Head}.");
        }

        if (Dim is < 1 or > 512)
        {
            return ValidationResult.Error($"--dim: expected 1 to 512, got {Dim}.");
        }

        if (Random && (QueryLength is < 1 or > 512 || KeyLength is < 1 or > 512))
        {
            return ValidationResult.Error($"--lq and --lk: expected 1 to 512, got {QueryLength} and {KeyLength}.");
        }

        if (!Random && (QueryTokens.Count is 0 or > 64 || KeyTokens.Count is 0 or > 64))
        {
            return ValidationResult.Error("--query and --key: expected 1 to 64 space-separated tokens each.");
        }

        if (Font is not null && !File.Exists(Font))
        {
            return ValidationResult.Error($"--font: no file '{Font}'.");
        }

        return ValidationResult.Success();
    }

    private static string[] Tokens(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
