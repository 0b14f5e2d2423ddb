using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;

namespace Attention.Native.Cpu.Tiled;

/// <summary>
/// A phase's float K and V rows of whole KV groups (batch, KV head), copied once per group into one contiguous run,
/// <c>[group, Lk, D]</c>, that all of the group's work items of <see cref="TiledAttentionKernel{TOps, TVec}"/> read:
/// only the operands whose rows lie apart (BSHD, a packed projection's view); a contiguous one is read in place.
/// </summary>
internal readonly unsafe struct HeadRows<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>Rows per copy step: the next step's rows are prefetched while this step's are copied.</summary>
    private const int StepRows = 48;

    private readonly bool stagesKey;
    private readonly bool stagesValue;

    /// <param name="p">The problem; its K and V are float.</param>
    /// <param name="groups">Groups staged at once (a phase).</param>
    public HeadRows(AttentionProblem p, int groups)
    {
        stagesKey = p.Key.Sequence != p.HeadDim;
        stagesValue = p.Value.Sequence != p.ValueHeadDim;
        KeyGroupFloats = stagesKey ? (long)p.KeyLength * p.HeadDim : 0;
        ValueGroupFloats = stagesValue ? (long)p.KeyLength * p.ValueHeadDim : 0;
        KeyFloats = KeyGroupFloats * groups;
        ValueFloats = ValueGroupFloats * groups;
    }

    /// <summary>Staged K floats of one group (0 where K is read in place).</summary>
    public long KeyGroupFloats { get; }

    /// <summary>Staged V floats of one group (0 where V is read in place).</summary>
    public long ValueGroupFloats { get; }

    /// <summary>Staged K floats of a phase.</summary>
    public long KeyFloats { get; }

    /// <summary>Staged V floats of a phase.</summary>
    public long ValueFloats { get; }

    /// <summary>Copies <paramref name="group"/>'s rows (up to its sequence's key length) to the targets.</summary>
    public void Stage(AttentionProblem p, float* key, float* value, int group, float* keyTarget, float* valueTarget)
    {
        int batch = group / p.KeyValueHeads;
        int kvHead = group % p.KeyValueHeads;
        int rows = p.KeyLengthOf(batch);
        if (stagesKey)
        {
            Copy(key, p.KeyOffset(batch, kvHead, 0), p.Key.Sequence, rows, p.HeadDim, keyTarget);
        }

        if (stagesValue)
        {
            Copy(value, p.ValueOffset(batch, kvHead, 0), p.Value.Sequence, rows, p.ValueHeadDim, valueTarget);
        }
    }

    /// <summary>
    /// The problem and operands that read the phase's staged groups from <paramref name="firstGroup"/> on: strides of a
    /// contiguous <c>[B·Hkv, Lk, D]</c> whose group <paramref name="firstGroup"/> starts at the staged rows.
    /// </summary>
    public (AttentionProblem Problem, Operands<T> Operands) View<T>(
        AttentionProblem p, in Operands<T> ops, int firstGroup, float* keys, float* values)
        where T : unmanaged
    {
        var problem = p with
        {
            Key = stagesKey ? new TensorStrides(p.KeyValueHeads * KeyGroupFloats, KeyGroupFloats, p.HeadDim) : p.Key,
            Value = stagesValue ? new TensorStrides(p.KeyValueHeads * ValueGroupFloats, ValueGroupFloats, p.ValueHeadDim) : p.Value,
        };
        var operands = ops with
        {
            Key = stagesKey ? (T*)(keys - (firstGroup * KeyGroupFloats)) : ops.Key,
            Value = stagesValue ? (T*)(values - (firstGroup * ValueGroupFloats)) : ops.Value,
        };
        return (problem, operands);
    }

    private static void Copy(float* source, long offset, long stride, int rows, int dim, float* target)
    {
        for (int start = 0; start < rows; start += StepRows)
        {
            int count = Math.Min(StepRows, rows - start);
            OperandRows<TOps, TVec>.AsContiguousFloat(source, offset + (start * stride), stride, 0, count, dim,
                target + ((long)start * dim), Math.Min(StepRows, rows - start - count));
        }
    }
}
