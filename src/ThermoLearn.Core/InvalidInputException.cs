namespace ThermoLearn;

/// <summary>
/// Bad input from a user: a file, a parameter or a shape that cannot be used. The message says what
/// is wrong, where, and what would be right; the command-line tool prints it and exits with code 2.
/// </summary>
public sealed class InvalidInputException : Exception
{
    public InvalidInputException(string message) : base(message) { }

    public InvalidInputException(string message, Exception inner) : base(message, inner) { }
}
