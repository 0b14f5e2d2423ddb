namespace Attention.Native.Tests.Support;

/// <summary>
/// Tensors holding a <see cref="HostOperands"/>' values, each uploaded to the backend a test picks for it by name
/// (<c>query</c>, <c>key</c>, <c>value</c>, <c>output</c>, <c>logSumExp</c>, <c>probabilities</c>).
/// </summary>
internal sealed class TensorOperands : IDisposable
{
    public static readonly string[] Names = ["query", "key", "value", "output", "logSumExp", "probabilities"];

    private readonly Dictionary<string, AttentionTensor<float>> tensors = [];

    public TensorOperands(HostOperands host, Func<string, AttentionBackend> owner)
    {
        float[][] values = [host.Query, host.Key, host.Value, host.Output, host.LogSumExp, host.Probabilities];
        for (int i = 0; i < Names.Length; i++)
        {
            if (values[i].Length > 0)
            {
                tensors[Names[i]] = owner(Names[i]).Upload<float>(values[i]);
            }
        }
    }

    public AttentionTensor<float> this[string name] => tensors[name];

    /// <summary>Runs the call on these tensors, or on the given ones in place of an output.</summary>
    public void Run(
        AttentionBackend backend, BadCall call, AttentionTensor<float>? output = null,
        AttentionTensor<float>? logSumExp = null, AttentionTensor<float>? probabilities = null) =>
        backend.ScaledDotProductAttention(
            call.Shape, this["query"], this["key"], this["value"], output ?? this["output"], call.Options,
            logSumExp ?? tensors.GetValueOrDefault("logSumExp"), probabilities ?? tensors.GetValueOrDefault("probabilities"));

    /// <summary>Checks the outputs that are still alive.</summary>
    public void AssertOutputsUntouched()
    {
        foreach (string name in Names.Skip(3))
        {
            if (tensors.TryGetValue(name, out var tensor) && !tensor.IsDisposed)
            {
                BadCall.AssertSentinels(tensor.ToArray(), name);
            }
        }
    }

    public void Dispose()
    {
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }
    }
}
