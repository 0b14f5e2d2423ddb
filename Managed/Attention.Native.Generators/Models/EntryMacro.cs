using Attention.Native.Generators.Parsing;

namespace Attention.Native.Generators.Models;

/// <summary>
/// A function-like macro whose replacement declares kernels (it contains <c>__global__</c>), e.g.
/// <c>#define ATTENTION_MMA_ENTRY(bucket, dtype, T, Tile) extern "C" __global__ void ... attention_mma_d##bucket##_##dtype(...)</c>.
/// Its invocations, in any file, are expanded before kernels are looked for.
/// </summary>
/// <param name="Name">The macro's name.</param>
/// <param name="Parameters">Its parameter names.</param>
/// <param name="Body">Its replacement list.</param>
/// <param name="Location">Where its name stands.</param>
internal sealed record EntryMacro(string Name, EquatableArray<string> Parameters, EquatableArray<CudaToken> Body, SourceLocation Location);

/// <summary>
/// <c>NAME(arguments)</c> at namespace scope: perhaps an entry macro's invocation (whether it is, is known once every
/// file's macros are).
/// </summary>
/// <param name="Name">The invoked name.</param>
/// <param name="Arguments">The arguments' tokens, split at top-level commas.</param>
/// <param name="Location">The whole invocation, where the kernels it declares are reported.</param>
/// <param name="FileName">Its file's name.</param>
internal sealed record MacroInvocation(string Name, EquatableArray<EquatableArray<CudaToken>> Arguments, SourceLocation Location, string FileName);
