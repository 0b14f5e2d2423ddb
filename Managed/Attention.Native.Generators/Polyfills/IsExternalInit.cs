namespace System.Runtime.CompilerServices;

/// <summary>Lets netstandard2.0 compile records and <c>init</c> accessors (the type ships only from .NET 5 on).</summary>
internal static class IsExternalInit
{
}
