namespace Attention.Native.Perf.Backward;

/// <summary>A backward problem to time: self-attention of <c>[B, H, L, D]</c> operands, causal or not.</summary>
internal sealed record BackwardCase(int Batch, int Heads, int Length, int HeadDim, bool Causal)
{
    public AttentionShape Shape => new(Batch, Heads, Heads, Length, Length, HeadDim, HeadDim);

    /// <summary>FLOPs of the backward: <c>10·B·H·Lq·Lk·D</c> (five products), halved when causal.</summary>
    public double Flops => 10.0 * Batch * Heads * Length * (double)Length * HeadDim / (Causal ? 2 : 1);

    /// <summary>A case from <c>B:H:L:D</c>; null when it is not four positive integers.</summary>
    public static BackwardCase? TryParse(string text, bool causal)
    {
        var parts = text.Split(':');
        return parts.Length == 4 && parts.All(p => int.TryParse(p, out int n) && n > 0)
            ? new(int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]), int.Parse(parts[3]), causal)
            : null;
    }

    public override string ToString() => $"({Batch}, {Heads}, {Length}, {HeadDim}){(Causal ? " causal" : string.Empty)}";
}
