using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>
/// The assembly's one <see cref="NativeLibrary.SetDllImportResolver"/>: it maps the logical names of
/// <see cref="NativeLibraryNames"/> to the first file of <see cref="NativeLibraryNames.Candidates"/> that loads, and
/// leaves every other name to the runtime's default probing. An assembly can have only one resolver, so any further
/// native library this assembly binds must be added to <see cref="NativeLibraryNames"/>, not given a resolver of its
/// own.
/// </summary>
internal static class NativeLibraryResolver
{
    private static readonly ConcurrentDictionary<string, Lazy<NativeLibraryLoad>> Loads = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers the resolver when the assembly loads: before any <c>[LibraryImport]</c> can bind, and exactly once
    /// (the runtime runs a module initializer once per assembly load).
    /// </summary>
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The resolver must be registered before the first P/Invoke binds, whichever type makes it.")]
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);

    /// <summary>
    /// Loads <paramref name="library"/> (once per process; later calls return the first outcome) by trying its
    /// candidate file names in order (for cuBLAS, the file <see cref="NativeLibraryNames.BlasOverrideVariable"/> names
    /// when it is set).
    /// </summary>
    /// <param name="library">A logical name from <see cref="NativeLibraryNames"/>.</param>
    /// <returns>The outcome: the handle and file that loaded, or the names that were tried.</returns>
    public static NativeLibraryLoad Load(string library) =>
        Loads.GetOrAdd(library, name => new Lazy<NativeLibraryLoad>(() => TryCandidates(name))).Value;

    /// <summary>Whether <paramref name="library"/> has already been loaded (without trying to load it).</summary>
    public static bool IsLoaded(string library) =>
        Loads.TryGetValue(library, out var load) && load.IsValueCreated && load.Value.IsLoaded;

    /// <summary>The resolver callback: a loaded handle for our logical names, 0 (default probing) for the rest.</summary>
    internal static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        NativeLibraryNames.Candidates(libraryName, NativeLibraryNames.CurrentPlatform).Length == 0
            ? 0
            : Load(libraryName).Handle;

    private static NativeLibraryLoad TryCandidates(string library)
    {
        string[] candidates = NativeLibraryNames.Candidates(
            library, NativeLibraryNames.CurrentPlatform, Environment.GetEnvironmentVariable(NativeLibraryNames.BlasOverrideVariable));
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, typeof(NativeLibraryResolver).Assembly, null, out nint handle))
            {
                return new NativeLibraryLoad(handle, candidate, candidates);
            }
        }

        return new NativeLibraryLoad(0, null, candidates);
    }
}

/// <summary>The outcome of loading one native library.</summary>
/// <param name="Handle">The OS handle; 0 when no candidate loaded.</param>
/// <param name="FileName">The candidate that loaded, or null.</param>
/// <param name="Tried">Every candidate, in the order tried.</param>
internal sealed record NativeLibraryLoad(nint Handle, string? FileName, IReadOnlyList<string> Tried)
{
    public bool IsLoaded => Handle != 0;
}
