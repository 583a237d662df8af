namespace ThermoLearn.Simd;

/// <summary>
/// A flag the JIT knows when it compiles a generic method over it (<see cref="Yes"/> or <see cref="No"/>), so each
/// variant's hot loop holds only its own code and no branch on the flag.
/// </summary>
internal interface IJitFlag
{
    static abstract bool Value { get; }
}

internal readonly struct Yes : IJitFlag
{
    public static bool Value => true;
}

internal readonly struct No : IJitFlag
{
    public static bool Value => false;
}
