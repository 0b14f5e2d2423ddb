using System.Runtime.CompilerServices;

// Every native call of this assembly is a [LibraryImport] with blittable parameters (pointers, nint, integers,
// enums): no runtime marshalling stubs, AOT-safe, and a non-blittable signature becomes a compile-time error.
[assembly: DisableRuntimeMarshalling]
