using Attention.Native.Perf.Cli;
using Attention.Native.Perf.Workloads;
using BenchmarkDotNet.Running;

namespace Attention.Native.Perf.Bench;

/// <summary>
/// <c>bench [filter] [BenchmarkDotNet options]</c>. A filter with <c>*</c> is a BenchmarkDotNet glob (<c>--filter</c>);
/// a plain word keeps the attention shapes whose name contains it (as <c>compare --shapes</c>), while the FMA-peak and
/// bandwidth benchmarks always run. Without <c>--filter</c> everything runs; results are joined into one summary so
/// the limit column can be filled, unless <c>--no-join</c> is given.
/// </summary>
internal static class BenchEntry
{
    public static int Run(string[] args)
    {
        var arguments = args.ToList();
        if (arguments.Count > 0 && !arguments[0].StartsWith('-'))
        {
            string filter = arguments[0];
            arguments.RemoveAt(0);
            if (filter.Contains('*', StringComparison.Ordinal))
            {
                arguments.InsertRange(0, ["--filter", filter]);
            }
            else if (PerfCatalog.Filter(filter).Count == 0)
            {
                Console.Error.WriteLine($"bench: '{filter}' matches no shape. Shapes: {string.Join(", ", PerfCatalog.All.Select(c => c.Name).Distinct())}.");
                return ExitCodes.BadArguments;
            }
            else
            {
                Environment.SetEnvironmentVariable(AttentionBenchmarks.ShapeFilterVariable, filter);
            }
        }

        if (!arguments.Contains("--filter") && !arguments.Contains("-f"))
        {
            arguments.AddRange(["--filter", "*"]);
        }

        if (!arguments.Remove("--no-join") && !arguments.Contains("--join"))
        {
            arguments.Add("--join");
        }

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchEntry).Assembly).Run([.. arguments], BenchConfig.Create()).ToList();
        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? ExitCodes.Failure : ExitCodes.Success;
    }
}
