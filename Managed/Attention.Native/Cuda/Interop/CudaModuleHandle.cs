using System.Text;

namespace Attention.Native.Cuda.Interop;

/// <summary>
/// A module from <c>cuModuleLoadDataEx</c> (PTX, JIT-compiled by the driver for the device), unloaded with
/// <c>cuModuleUnload</c>. Loading captures the JIT's error and info logs; a failure's message carries the error log.
/// </summary>
internal sealed unsafe class CudaModuleHandle : ContextBoundHandle
{
    /// <summary>Bytes reserved for each JIT log (ptxas messages are short; a verbose info log lists each kernel).</summary>
    private const int LogBytes = 16 * 1024;

    private CudaModuleHandle(PrimaryContextHandle context)
        : base(context)
    {
    }

    /// <summary>The JIT's info log (register and shared-memory use of each kernel), possibly empty.</summary>
    public string InfoLog { get; private set; } = string.Empty;

    /// <summary>The raw <c>CUmodule</c>; only while the handle is open.</summary>
    public nint Value => handle;

    /// <summary>Loads a NUL-terminated PTX image into <paramref name="context"/>.</summary>
    /// <param name="context">The primary context.</param>
    /// <param name="image">PTX text ending with a 0 byte.</param>
    /// <param name="name">What the image is (a resource name), for the error message.</param>
    /// <returns>The module; dispose it to unload it.</returns>
    /// <exception cref="ArgumentException"><paramref name="image"/> does not end with a 0 byte.</exception>
    /// <exception cref="CudaException">The driver refused; the message holds the JIT error log.</exception>
    public static CudaModuleHandle Load(PrimaryContextHandle context, ReadOnlySpan<byte> image, string name)
    {
        if (image.IsEmpty || image[^1] != 0)
        {
            throw new ArgumentException("A PTX image must end with a 0 byte.", nameof(image));
        }

        context.MakeCurrent();
        var module = new CudaModuleHandle(context);
        byte[] infoLog = new byte[LogBytes];
        byte[] errorLog = new byte[LogBytes];
        fixed (byte* info = infoLog)
        fixed (byte* error = errorLog)
        fixed (byte* ptx = image)
        {
            CudaJitOption* options = stackalloc CudaJitOption[]
            {
                CudaJitOption.InfoLogBuffer, CudaJitOption.InfoLogBufferSizeBytes,
                CudaJitOption.ErrorLogBuffer, CudaJitOption.ErrorLogBufferSizeBytes, CudaJitOption.LogVerbose,
            };

            // Size options are passed as the pointer-sized value itself; the driver overwrites them with the bytes written.
            void** values = stackalloc void*[] { info, (void*)LogBytes, error, (void*)LogBytes, (void*)1 };
            nint raw = 0;
            var result = CudaDriver.cuModuleLoadDataEx(&raw, ptx, 5, options, values);
            string errorText = Text(errorLog, (nint)values[3]);
            module.Complete(result, raw, "cuModuleLoadDataEx",
                $"Module {name}: JIT error log: {(errorText.Length == 0 ? "(empty)" : errorText)}");
            module.InfoLog = Text(infoLog, (nint)values[1]);
        }

        return module;
    }

    /// <summary>Looks up a kernel (<c>cuModuleGetFunction</c>); the function lives as long as the module.</summary>
    /// <param name="function">The <c>extern "C"</c> entry point's name.</param>
    /// <returns>The <c>CUfunction</c>.</returns>
    /// <exception cref="CudaException">The module has no such entry point (<c>CUDA_ERROR_NOT_FOUND</c>).</exception>
    public nint GetFunction(string function)
    {
        byte[] name = Encoding.ASCII.GetBytes(function + "\0");
        nint raw = 0;
        fixed (byte* pointer = name)
        {
            var result = CudaDriver.cuModuleGetFunction(&raw, handle, pointer);
            if (result != CudaResult.Success)
            {
                throw new CudaException((int)result, "cuModuleGetFunction", $"(kernel {function})");
            }
        }

        return raw;
    }

    /// <inheritdoc />
    protected override bool Free() => CudaDriver.cuModuleUnload(handle) == CudaResult.Success;

    /// <summary>The log text the driver wrote: at most <paramref name="written"/> bytes, up to the first NUL.</summary>
    private static string Text(byte[] log, nint written)
    {
        int length = (int)Math.Clamp(written, 0, log.Length);
        int end = Array.IndexOf(log, (byte)0, 0, length);
        return Encoding.UTF8.GetString(log, 0, end < 0 ? length : end).Trim();
    }
}
