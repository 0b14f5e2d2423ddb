using System.Diagnostics;
using System.Reflection;

namespace Attention.Native.Perf.Report;

/// <summary>Warns when the library or this tool was compiled without optimisations (a Debug build).</summary>
internal static class BuildCheck
{
    /// <summary>A warning line, or null when both assemblies are optimised.</summary>
    public static string? Warning()
    {
        string[] unoptimised = [.. new[] { typeof(AttentionBackend).Assembly, typeof(BuildCheck).Assembly }
            .Where(a => a.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true)
            .Select(a => a.GetName().Name ?? "?")];
        return unoptimised.Length == 0 ? null
            : $"Warning: {string.Join(" and ", unoptimised)} built without optimisations (Debug): the times mean little; use -c Release.";
    }
}
