using System.Reflection;
using System.Runtime.InteropServices;
using Attention.Native.Cuda;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Tests.Cuda;

/// <summary>The native library names tried per OS, and the assembly's single DllImport resolver.</summary>
public sealed class NativeLibraryResolverTests
{
    public static TheoryData<string, string, string[]> CandidateLists => new()
    {
        { NativeLibraryNames.Driver, "LINUX", ["libcuda.so.1", "libcuda.so"] },
        { NativeLibraryNames.Driver, "WINDOWS", ["nvcuda.dll"] },
        { NativeLibraryNames.Driver, "OSX", [] },
        { NativeLibraryNames.Driver, "FREEBSD", [] },
        { NativeLibraryNames.Blas, "LINUX", ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11"] },
        { NativeLibraryNames.Blas, "WINDOWS", ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"] },
        { NativeLibraryNames.Blas, "OSX", [] },
        { "libc", "LINUX", [] },
        { "kernel32", "WINDOWS", [] },
    };

    [Theory]
    [MemberData(nameof(CandidateLists))]
    public void Candidates_per_operating_system(string library, string platform, string[] expected) =>
        Assert.Equal(expected, NativeLibraryNames.Candidates(library, OSPlatform.Create(platform)));

    /// <summary>ATTENTION_NATIVE_CUBLAS names cuBLAS's one candidate (no silent fallback to another cuBLAS); it changes
    /// nothing else.</summary>
    public static TheoryData<string, string, string?, string[]> OverriddenLists => new()
    {
        { NativeLibraryNames.Blas, "LINUX", "/site-packages/nvidia/cu13/lib/libcublas.so.13", ["/site-packages/nvidia/cu13/lib/libcublas.so.13"] },
        { NativeLibraryNames.Blas, "WINDOWS", @"C:\cuda\cublas64_13.dll", [@"C:\cuda\cublas64_13.dll"] },
        { NativeLibraryNames.Blas, "LINUX", "", ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11"] },
        { NativeLibraryNames.Blas, "LINUX", "  ", ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11"] },
        { NativeLibraryNames.Blas, "OSX", "/opt/libcublas.dylib", [] },
        { NativeLibraryNames.Driver, "LINUX", "/site-packages/nvidia/cu13/lib/libcublas.so.13", ["libcuda.so.1", "libcuda.so"] },
    };

    [Theory]
    [MemberData(nameof(OverriddenLists))]
    public void The_cublas_override_is_its_only_candidate(string library, string platform, string? blasOverride, string[] expected)
    {
        Assert.Equal("ATTENTION_NATIVE_CUBLAS", NativeLibraryNames.BlasOverrideVariable);
        Assert.Equal(expected, NativeLibraryNames.Candidates(library, OSPlatform.Create(platform), blasOverride));
    }

    [Fact]
    public void The_resolver_is_registered_once_when_the_assembly_loads()
    {
        // The runtime allows one resolver per assembly: a second registration fails because ours is in place.
        var error = Assert.Throws<InvalidOperationException>(
            () => NativeLibrary.SetDllImportResolver(typeof(CudaBackend).Assembly, (_, _, _) => 0));
        Assert.NotNull(error.Message);
    }

    [Fact]
    public void Names_it_does_not_own_are_left_to_default_probing() =>
        Assert.Equal(0, NativeLibraryResolver.Resolve("libc", typeof(CudaBackend).Assembly, null));

    /// <summary>Every bound entry point exists in the library that loads (checked wherever the library is installed).</summary>
    [Theory]
    [InlineData(NativeLibraryNames.Driver, typeof(CudaDriver))]
    [InlineData(NativeLibraryNames.Blas, typeof(Cublas))]
    public void Every_bound_entry_point_is_exported(string library, Type bindings)
    {
        var load = NativeLibraryResolver.Load(library);
        Assert.SkipUnless(load.IsLoaded, $"{library}: none of {string.Join(", ", load.Tried)} is installed here");
        string[] entryPoints =
        [
            .. bindings.GetMethods(BindingFlags.Public | BindingFlags.Static)
                .Select(m => (Method: m, Import: m.GetCustomAttribute<LibraryImportAttribute>()))
                .Where(m => m.Import is not null)
                .Select(m => m.Import!.EntryPoint ?? m.Method.Name),
        ];
        Assert.NotEmpty(entryPoints);
        Assert.All(entryPoints, name => Assert.True(
            NativeLibrary.TryGetExport(load.Handle, name, out _), $"{load.FileName} does not export {name}"));
    }

    [Fact]
    public void Loading_the_driver_tries_every_candidate_in_order()
    {
        var load = NativeLibraryResolver.Load(NativeLibraryNames.Driver);
        Assert.Equal(NativeLibraryNames.Candidates(NativeLibraryNames.Driver, NativeLibraryNames.CurrentPlatform), load.Tried);
        Assert.Same(load, NativeLibraryResolver.Load(NativeLibraryNames.Driver));
        if (load.IsLoaded)
        {
            Assert.Contains(load.FileName, load.Tried);
            Assert.True(NativeLibraryResolver.IsLoaded(NativeLibraryNames.Driver));
        }
        else
        {
            Assert.Null(load.FileName);
            Assert.False(NativeLibraryResolver.IsLoaded(NativeLibraryNames.Driver));
            Assert.False(CudaTestEnvironment.IsAvailable);
        }
    }
}
