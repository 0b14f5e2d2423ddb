namespace Attention.Native;

/// <summary>The checks every tensor entry point makes on its tensor arguments before it validates shapes.</summary>
public abstract partial class AttentionBackend
{
    /// <summary>
    /// Rejects, in argument order: a missing required tensor (<see cref="ArgumentNullException"/>), a disposed one
    /// (<see cref="ObjectDisposedException"/>), one of another backend, and a written tensor that is also an argument
    /// before it (an input, the mask and bias included, or an earlier output: the kernel would race with itself).
    /// Inputs come first, then the outputs in the order the call writes them.
    /// </summary>
    private protected void ThrowIfBadTensors(params ReadOnlySpan<TensorArgument> arguments)
    {
        foreach (var argument in arguments)
        {
            if (argument.Tensor is null)
            {
                if (argument.Required)
                {
                    throw new ArgumentNullException(argument.Name);
                }

                continue;
            }

            ThrowIfForeign(argument.Tensor, argument.Name);
        }

        for (int i = 0; i < arguments.Length; i++)
        {
            if (!arguments[i].Written || arguments[i].Tensor is not { } written)
            {
                continue;
            }

            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(arguments[j].Tensor, written))
                {
                    throw new ArgumentException(
                        $"{arguments[i].Name} must not also be another operand of the call: it is {arguments[j].Name}.",
                        arguments[i].Name);
                }
            }
        }
    }

    /// <summary>Rejects a disposed tensor or one of another backend; null (an absent optional tensor) passes.</summary>
    private void ThrowIfForeign(IBackendTensor? tensor, string parameter)
    {
        if (tensor is null)
        {
            return;
        }

        if (tensor.IsDisposed)
        {
            throw new ObjectDisposedException(parameter, $"{parameter} was disposed.");
        }

        if (!ReferenceEquals(tensor.Backend, this))
        {
            throw new ArgumentException(
                $"{parameter} belongs to another backend ({tensor.Backend.Description}); copy it to this one first.",
                parameter.Split('.')[0]);
        }
    }

    /// <summary>A tensor argument of a call: its name, whether it must be given, whether the call writes it.</summary>
    private protected readonly record struct TensorArgument(IBackendTensor? Tensor, string Name, bool Required = false, bool Written = false);
}

/// <summary>What the argument checks read of an <see cref="AttentionTensor{T}"/> of any element type.</summary>
internal interface IBackendTensor
{
    AttentionBackend Backend { get; }

    bool IsDisposed { get; }
}
