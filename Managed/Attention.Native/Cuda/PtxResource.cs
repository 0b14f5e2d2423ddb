using System.Reflection;

namespace Attention.Native.Cuda;

/// <summary>
/// Reads PTX embedded in this assembly. The build embeds <c>Native/*.ptx</c> with logical names <c>ptx/&lt;file&gt;</c>
/// (see <c>Native/README.md</c>); a missing one is a broken build, reported as such rather than worked around.
/// </summary>
internal static class PtxResource
{
    /// <summary>The PTX text of resource <paramref name="name"/>, followed by the 0 byte the driver expects.</summary>
    /// <param name="name">The logical name, e.g. <c>ptx/attention_simt.ptx</c>.</param>
    /// <returns>The NUL-terminated image.</returns>
    /// <exception cref="InvalidOperationException">The assembly has no such resource (the message lists those it has).</exception>
    public static byte[] Read(string name)
    {
        var assembly = typeof(PtxResource).Assembly;
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException(MissingMessage(name, assembly));
        byte[] image = new byte[checked((int)stream.Length + 1)];
        stream.ReadExactly(image, 0, image.Length - 1);
        return image;
    }

    private static string MissingMessage(string name, Assembly assembly)
    {
        string[] embedded = [.. assembly.GetManifestResourceNames().Where(n => n.StartsWith("ptx/", StringComparison.Ordinal))];
        string file = name.StartsWith("ptx/", StringComparison.Ordinal) ? name["ptx/".Length..] : name;
        return $"The CUDA kernels are missing from this build: {assembly.GetName().Name} has no embedded resource " +
            $"'{name}' (embedded PTX: {(embedded.Length == 0 ? "none" : string.Join(", ", embedded))}). The library " +
            $"project must embed Native/{file} with LogicalName 'ptx/{file}'; rebuild with ./build.sh.";
    }
}
