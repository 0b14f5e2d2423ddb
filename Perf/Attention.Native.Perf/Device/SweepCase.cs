namespace Attention.Native.Perf.Device;

/// <summary>The operand element type of a sweep case.</summary>
internal enum SweepType
{
    Float,
    Half,
    BFloat16,
}

/// <summary>How Q, K, V and O lie in memory.</summary>
internal enum SweepLayout
{
    /// <summary>Contiguous <c>[B, H, L, D]</c> (<see cref="AttentionLayout.Bhsd"/>).</summary>
    Bhsd,

    /// <summary>Contiguous <c>[B, L, H, D]</c> (<see cref="AttentionLayout.Bshd"/>).</summary>
    Bshd,

    /// <summary>Explicit BHSD-ordered strides with padding after every row, head and batch (output too).</summary>
    Padded,

    /// <summary>K and V rows <c>D + Dv</c> wide in BSHD order, like slices of a packed KV projection.</summary>
    PackedKv,

    /// <summary>K and V with batch stride 0: one KV cache shared by every batch entry.</summary>
    BroadcastKv,
}

/// <summary>A mask or bias: its broadcast form <c>[Batch|1, Heads|1, Lq, Lk]</c> and where it is held.</summary>
/// <param name="Batch">1 or the problem's batch.</param>
/// <param name="Heads">1 or the problem's query heads.</param>
/// <param name="InTensor">Held in a tensor of the backend that runs the call (else host memory).</param>
internal sealed record ScoresForm(int Batch, int Heads, bool InTensor)
{
    public string Label => $"{(Batch > 1 ? "B" : "1")}x{(Heads > 1 ? "H" : "1")}";
}

/// <summary>
/// One randomly drawn problem of the correctness sweep: shape, element type, layout, every option. The operands are
/// drawn when the case runs, from <see cref="Seed"/>; <see cref="SweepCatalog"/> draws the cases themselves.
/// </summary>
internal sealed record SweepCase
{
    /// <summary>Position in the sweep.</summary>
    public required int Index { get; init; }

    /// <summary>Seed of the case's own random data (reproduces it with the sweep's seed).</summary>
    public required int Seed { get; init; }

    public required SweepType Type { get; init; }

    public required AttentionShape Shape { get; init; }

    public required SweepLayout Layout { get; init; }

    /// <summary>Through backend tensors (else through the span overload).</summary>
    public required bool ViaTensors { get; init; }

    /// <summary>Magnitude of Q and K (V is always ±[0.05, 1]): 1, huge (300) or tiny.</summary>
    public float Amplitude { get; init; } = 1f;

    public float? Scale { get; init; }

    public CausalMask Causal { get; init; }

    public SlidingWindow? Window { get; init; }

    public int[]? KeyLengths { get; init; }

    public ScoresForm? Mask { get; init; }

    /// <summary>Probability that a mask element attends.</summary>
    public double MaskDensity { get; init; } = 0.7;

    /// <summary>Mask rows set entirely to false (fully masked rows).</summary>
    public int MaskedRows { get; init; }

    public ScoresForm? Bias { get; init; }

    /// <summary>Some bias entries (and one whole row) are −∞.</summary>
    public bool BiasNegativeInfinity { get; init; }

    public float Softcap { get; init; }

    public bool WithLogSumExp { get; init; }

    public bool WithProbabilities { get; init; }

    public bool IsHuge => Amplitude > 10f;

    public bool IsTiny => Amplitude < 0.01f;

    /// <summary>The bound on ‖out − ref‖ / ‖ref‖: fp32 1e-5, Half 1.5e-3, BFloat16 1e-2 (output rounding included);
    /// 1e-2 for huge scores, whose fp32 score rounding moves nearly tied weights (see the tests' CaseCatalog).</summary>
    public double Tolerance => IsHuge ? 1e-2 : Type switch
    {
        SweepType.Float => 1e-5,
        SweepType.Half => 1.5e-3,
        _ => 1e-2,
    };

    public string TypeName => Type switch
    {
        SweepType.Float => "float",
        SweepType.Half => "half",
        _ => "bf16",
    };

    /// <summary>The options with masks and biases in host memory (the tensor path swaps in backend tensors).</summary>
    public AttentionOptions Options(bool[]? mask, float[]? bias)
    {
        var geometry = Geometry;
        return new AttentionOptions
        {
            Scale = Scale,
            Causal = Causal,
            Window = Window,
            Softcap = Softcap,
            KeyLengths = KeyLengths ?? ReadOnlyMemory<int>.Empty,
            Mask = Mask is { } m && mask is not null ? new AttentionMask(mask, m.Batch, m.Heads) : null,
            Bias = Bias is { } b && bias is not null ? new AttentionBias(bias, b.Batch, b.Heads) : null,
            Layout = Layout == SweepLayout.Bshd ? AttentionLayout.Bshd : AttentionLayout.Bhsd,
            QueryStrides = geometry.Query,
            KeyStrides = geometry.Key,
            ValueStrides = geometry.Value,
            OutputStrides = geometry.Output,
        };
    }

    /// <summary>Explicit strides (null for the contiguous layouts) and the element count of each operand buffer.</summary>
    public OperandGeometry Geometry => OperandGeometry.Of(this);

    /// <summary>What the case exercises, as tokens without commas (the CSV's <c>features</c> column and the coverage check).</summary>
    public IReadOnlyList<string> Features
    {
        get
        {
            var s = Shape;
            var f = new List<string>
            {
                $"dtype:{TypeName}",
                $"layout:{LayoutName}",
                ViaTensors ? "api:tensors" : "api:spans",
                s.GroupSize == 1 ? "heads:mha" : s.KeyValueHeads == 1 ? "heads:mqa" : "heads:gqa",
                s.QueryLength < s.KeyLength ? "lengths:lq<lk" : s.QueryLength > s.KeyLength ? "lengths:lq>lk" : "lengths:equal",
            };
            if (s.QueryLength == 1)
            {
                f.Add("decode");
            }

            if (s.HeadDim != s.ValueHeadDim)
            {
                f.Add("dv:differs");
            }

            foreach (int size in SweepCatalog.OddSizes)
            {
                if (s.QueryLength == size || s.KeyLength == size || s.HeadDim == size || s.ValueHeadDim == size)
                {
                    f.Add($"size:{size}");
                }
            }

            if (s.HeadDim == 256 || s.ValueHeadDim == 256)
            {
                f.Add("d:256");
            }

            if (s.HeadDim > 128 || s.ValueHeadDim > 128)
            {
                f.Add("d:129+");
            }

            if (s.KeyLength >= 2048)
            {
                f.Add("lk:2048+");
            }

            if (Scale is { } scale)
            {
                f.Add($"scale={Format(scale)}");
            }

            if (Causal != CausalMask.None)
            {
                f.Add(Causal == CausalMask.TopLeft ? "causal:top-left" : "causal:bottom-right");
            }

            if (Window is { } w)
            {
                f.Add($"window={w.Left}:{w.Right}");
            }

            if (KeyLengths is { } lengths)
            {
                f.Add($"keylengths={string.Join(':', lengths)}");
                if (lengths.Contains(0))
                {
                    f.Add("keylength:0");
                }
            }

            if (Mask is { } mask)
            {
                f.Add($"mask:{mask.Label}");
                f.Add($"mask-density={Format((float)MaskDensity)}");
                if (mask.InTensor)
                {
                    f.Add("mask:tensor");
                }
            }

            if (MaskedRows > 0)
            {
                f.Add($"masked-rows={MaskedRows}");
            }

            if (Bias is { } bias)
            {
                f.Add($"bias:{bias.Label}");
                if (bias.InTensor)
                {
                    f.Add("bias:tensor");
                }

                if (BiasNegativeInfinity)
                {
                    f.Add("bias:-inf");
                }
            }

            if (Softcap > 0)
            {
                f.Add($"softcap={Format(Softcap)}");
            }

            if (WithLogSumExp)
            {
                f.Add("lse");
            }

            if (WithProbabilities)
            {
                f.Add("probs");
            }

            if (IsHuge)
            {
                f.Add("scores:huge");
            }

            if (IsTiny)
            {
                f.Add("scores:tiny");
            }

            return f;
        }
    }

    public string LayoutName => Layout switch
    {
        SweepLayout.Bhsd => "bhsd",
        SweepLayout.Bshd => "bshd",
        SweepLayout.Padded => "padded",
        SweepLayout.PackedKv => "packed-kv",
        _ => "broadcast-kv",
    };

    private static string Format(float value) => value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Explicit strides (null: contiguous in the options' layout) and buffer lengths of Q, K, V and O.</summary>
internal sealed record OperandGeometry(
    TensorStrides? Query, TensorStrides? Key, TensorStrides? Value, TensorStrides? Output,
    long QueryLength, long KeyLength, long ValueLength, long OutputLength)
{
    public static OperandGeometry Of(SweepCase c)
    {
        var s = c.Shape;
        // Deterministic per case: the padding is drawn from the case's seed, not from the data stream.
        var r = new Random(c.Seed ^ 0x2545F491);
        switch (c.Layout)
        {
            case SweepLayout.Padded:
            {
                var q = Padded(r, s.QueryHeads, s.QueryLength, s.HeadDim);
                var k = Padded(r, s.KeyValueHeads, s.KeyLength, s.HeadDim);
                var v = Padded(r, s.KeyValueHeads, s.KeyLength, s.ValueHeadDim);
                var o = Padded(r, s.QueryHeads, s.QueryLength, s.ValueHeadDim);
                return new(q, k, v, o,
                    q.RequiredLength(s.Batch, s.QueryHeads, s.QueryLength, s.HeadDim),
                    k.RequiredLength(s.Batch, s.KeyValueHeads, s.KeyLength, s.HeadDim),
                    v.RequiredLength(s.Batch, s.KeyValueHeads, s.KeyLength, s.ValueHeadDim),
                    o.RequiredLength(s.Batch, s.QueryHeads, s.QueryLength, s.ValueHeadDim));
            }

            case SweepLayout.PackedKv:
            {
                // One packed [B, Lk, Hkv, D + Dv] projection: K is its first D columns, V the next Dv (two buffers here).
                long row = (long)s.HeadDim + s.ValueHeadDim;
                var kv = new TensorStrides(s.KeyLength * s.KeyValueHeads * row, row, s.KeyValueHeads * row);
                var q = TensorStrides.Contiguous(AttentionLayout.Bshd, s.QueryHeads, s.QueryLength, s.HeadDim);
                var o = TensorStrides.Contiguous(AttentionLayout.Bshd, s.QueryHeads, s.QueryLength, s.ValueHeadDim);
                long kvLength = s.Batch * kv.Batch;
                return new(q, kv, kv, o, s.QueryElementCount, kvLength, kvLength, s.OutputElementCount);
            }

            case SweepLayout.BroadcastKv:
            {
                var k = new TensorStrides(0, (long)s.KeyLength * s.HeadDim, s.HeadDim);
                var v = new TensorStrides(0, (long)s.KeyLength * s.ValueHeadDim, s.ValueHeadDim);
                var q = TensorStrides.Contiguous(AttentionLayout.Bhsd, s.QueryHeads, s.QueryLength, s.HeadDim);
                var o = TensorStrides.Contiguous(AttentionLayout.Bhsd, s.QueryHeads, s.QueryLength, s.ValueHeadDim);
                return new(q, k, v, o, s.QueryElementCount,
                    (long)s.KeyValueHeads * s.KeyLength * s.HeadDim, (long)s.KeyValueHeads * s.KeyLength * s.ValueHeadDim,
                    s.OutputElementCount);
            }

            default:
                return new(null, null, null, null, s.QueryElementCount, s.KeyElementCount, s.ValueElementCount, s.OutputElementCount);
        }
    }

    /// <summary>BHSD-ordered strides with 1-5 spare elements after each row, 0-7 after each head and batch entry.</summary>
    private static TensorStrides Padded(Random r, int heads, int length, int dim)
    {
        long sequence = dim + r.Next(1, 6);
        long head = (length * sequence) + r.Next(0, 8);
        long batch = (heads * head) + r.Next(0, 8);
        return new TensorStrides(batch, head, sequence);
    }
}
