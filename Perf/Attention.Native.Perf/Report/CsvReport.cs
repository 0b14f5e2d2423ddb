using System.Globalization;
using System.Text;
using Attention.Native.Perf.Compare;
using Attention.Native.Perf.Limits;

namespace Attention.Native.Perf.Report;

/// <summary>The compare results as CSV with full-precision invariant numbers, one row per (case, backend).</summary>
internal static class CsvReport
{
    private const string Header =
        "shape,mask,batch,query_heads,kv_heads,lq,lk,d,dv,backend,variant,threads,median_ms,gflops,gbps,limit,limit_fraction,rel_error,error_scope,passes,speedup_vs_best_cpu,dtype,kernel,ours_over_peer";

    public static string Render(IReadOnlyList<CompareRow> rows, MachineLimits limits)
    {
        var text = new StringBuilder().AppendLine(Header);
        foreach (var row in rows)
        {
            var s = row.Case.Shape;
            object[] fields =
            [
                row.Case.Name, row.Case.Mask, s.Batch, s.QueryHeads, s.KeyValueHeads, s.QueryLength, s.KeyLength, s.HeadDim,
                s.ValueHeadDim, row.BackendName, row.Variant, row.Threads, row.Milliseconds, row.Gflops, row.Gbps, row.LimitKind,
                row.LimitFraction(limits), row.RelativeError, row.ErrorScope, row.Passes, row.SpeedupOverCpu, row.Dtype.Name(), row.Kernel,
                row.OursOverPeer,
            ];
            text.AppendLine(string.Join(',', fields.Select(Field)));
        }

        return text.ToString();
    }

    private static string Field(object value) => value switch
    {
        double d when double.IsNaN(d) => string.Empty,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s when s.Contains(',', StringComparison.Ordinal) || s.Contains('"', StringComparison.Ordinal) => $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };
}
