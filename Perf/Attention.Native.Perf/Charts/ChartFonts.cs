using SkiaSharp;

namespace Attention.Native.Perf.Charts;

/// <summary>
/// Picks the typefaces the charts draw text with. The Skia natives used on Linux (NoDependencies) have no fontconfig,
/// so fonts are found by scanning the usual font folders for files and registering them with ScottPlot by path.
/// </summary>
internal static class ChartFonts
{
    /// <summary>The name the Latin font is registered under in ScottPlot.</summary>
    public const string LatinName = "AttentionNative-Latin";

    /// <summary>The name a CJK-capable font is registered under.</summary>
    public const string CjkName = "AttentionNative-CJK";

    private const string CjkProbe = "我是一只狗";

    private static readonly string[] PreferredLatin =
        ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "Arial.ttf", "arial.ttf", "Helvetica.ttc", "segoeui.ttf"];

    private static readonly string[] PreferredCjk =
        ["NotoSansCJK", "NotoSansSC", "SourceHanSans", "wqy", "DroidSansFallback", "msyh", "simhei", "simsun", "PingFang", "Hiragino", "ukai", "uming"];

    private static readonly Lazy<Resolved> State = new(Resolve);

    /// <summary>The Latin font's file, or null when none was found (then SkiaSharp's default typeface is used).</summary>
    public static string? LatinFile => State.Value.Latin;

    /// <summary>The CJK-capable font's file, or null when the machine has none.</summary>
    public static string? CjkFile => State.Value.Cjk;

    /// <summary>A line saying which fonts the charts use.</summary>
    public static string Describe() =>
        $"Chart fonts: {LatinFile ?? "SkiaSharp's default typeface (no font file found)"}; CJK: {CjkFile ?? "none found"}.";

    /// <summary>Registers the fonts with ScottPlot and makes the Latin one the default; call before creating plots.</summary>
    public static void Configure(string? cjkOverride = null)
    {
        var state = State.Value;
        if (state.Latin is { } latin)
        {
            // Titles are bold: register the bold face of the family where it sits beside the regular one.
            string bold = Path.Combine(Path.GetDirectoryName(latin)!, Path.GetFileNameWithoutExtension(latin).Replace("-Regular", string.Empty, StringComparison.Ordinal) + "-Bold" + Path.GetExtension(latin));
            ScottPlot.Fonts.AddFontFile(LatinName, latin);
            ScottPlot.Fonts.AddFontFile(LatinName, File.Exists(bold) ? bold : latin, bold: true);
            ScottPlot.Fonts.Default = LatinName;
        }

        if (cjkOverride is not null)
        {
            state.Cjk = SupportsCjk(cjkOverride) ? cjkOverride
                : throw new ArgumentException($"--font: '{cjkOverride}' is not a font file with CJK glyphs ({CjkProbe}).");
        }

        if (state.Cjk is { } cjk)
        {
            ScottPlot.Fonts.AddFontFile(CjkName, cjk);
            ScottPlot.Fonts.AddFontFile(CjkName, cjk, bold: true);
        }
    }

    /// <summary>Whether the Latin font (or the default typeface) has a glyph for every character of the text.</summary>
    public static bool LatinHasGlyphs(string text)
    {
        using var typeface = LatinFile is { } file ? SKTypeface.FromFile(file) : SKTypeface.Default;
        return typeface is not null && typeface.ContainsGlyphs(text);
    }

    private static bool SupportsCjk(string file)
    {
        using var typeface = File.Exists(file) ? SKTypeface.FromFile(file) : null;
        return typeface is not null && typeface.ContainsGlyphs(CjkProbe);
    }

    private static Resolved Resolve()
    {
        var files = FontFiles();
        string? latin = PreferredLatin
            .Select(name => files.FirstOrDefault(f => Path.GetFileName(f).Equals(name, StringComparison.OrdinalIgnoreCase)))
            .FirstOrDefault(f => f is not null && Has(f, "Ag0%"));
        latin ??= files.FirstOrDefault(f => Has(f, "Ag0%"));
        string? cjk = PreferredCjk
            .SelectMany(name => files.Where(f => Path.GetFileName(f).Contains(name, StringComparison.OrdinalIgnoreCase)))
            .FirstOrDefault(SupportsCjk);
        cjk ??= files.Take(400).FirstOrDefault(SupportsCjk);
        return new Resolved { Latin = latin, Cjk = cjk };
    }

    private static bool Has(string file, string text)
    {
        using var typeface = SKTypeface.FromFile(file);
        return typeface is not null && typeface.GlyphCount > 0 && typeface.ContainsGlyphs(text);
    }

    private static List<string> FontFiles()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string windows = Environment.GetFolderPath(Environment.SpecialFolder.Fonts);
        string[] folders =
        [
            "/usr/share/fonts", "/usr/local/share/fonts", Path.Combine(home, ".fonts"), Path.Combine(home, ".local/share/fonts"),
            "/System/Library/Fonts", "/Library/Fonts", windows,
        ];
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, MaxRecursionDepth = 6 };
        var files = new List<string>();
        foreach (string folder in folders.Where(f => !string.IsNullOrEmpty(f) && Directory.Exists(f)).Distinct())
        {
            files.AddRange(Directory.EnumerateFiles(folder, "*", options)
                .Where(f => f.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".otf", StringComparison.OrdinalIgnoreCase)
                    || f.EndsWith(".ttc", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
                .Take(4000));
        }

        return files;
    }

    private sealed class Resolved
    {
        public string? Latin { get; init; }

        public string? Cjk { get; set; }
    }
}
