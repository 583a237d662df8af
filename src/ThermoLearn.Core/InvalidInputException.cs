using System.Globalization;
using System.Runtime.CompilerServices;

namespace ThermoLearn;

/// <summary>
/// Bad input from a user: a file, a parameter or a shape that cannot be used. The message says what
/// is wrong, where, and what would be right; the command-line tool prints it and exits with code 2.
/// <para>
/// A message that names parameters is made with <see cref="Naming(FormattableString[])"/>: its <see cref="InputParameter"/> arguments read as the
/// library's names in <see cref="Exception.Message"/>, and <see cref="Render"/> gives the same message in a front end's own
/// names for them (the command-line tool's flags), so the library never speaks of a front end's syntax.
/// </para>
/// </summary>
public sealed class InvalidInputException : Exception
{
    private readonly FormattableString? _template;

    public InvalidInputException(string message) : base(message) { }

    public InvalidInputException(string message, Exception inner) : base(message, inner) { }

    private InvalidInputException(FormattableString template, Exception? inner) : base(template.ToString(), inner) => _template = template;

    /// <summary>An error whose message, the concatenation of <paramref name="parts"/>, names parameters: the interpolations'
    /// <see cref="InputParameter"/> arguments (and those of nested interpolated messages) are what <see cref="Render"/> renames.</summary>
    public static InvalidInputException Naming(params FormattableString[] parts) => Naming(null, parts);

    /// <summary><see cref="Naming(FormattableString[])"/> with the exception that caused it.</summary>
    public static InvalidInputException Naming(Exception? inner, params FormattableString[] parts) =>
        new(parts.Length == 1 ? parts[0] : Concatenate(parts), inner);

    /// <summary>One message of several interpolated parts (each rendered in turn).</summary>
    public static FormattableString Concatenate(params FormattableString[] parts) =>
        FormattableStringFactory.Create(string.Concat(Enumerable.Range(0, parts.Length).Select(i => $"{{{i}}}")), [.. parts.Cast<object?>()]);

    /// <summary>The parameters the message names (empty for a plain message).</summary>
    public IReadOnlyList<InputParameter> Parameters => _template is null ? [] : ParametersOf(_template).Distinct().ToArray();

    /// <summary>The message with every named parameter written as <paramref name="name"/> gives it (e.g. a flag).</summary>
    public string Render(Func<InputParameter, string> name) => _template is null ? Message : RenderTemplate(_template, name);

    private static string RenderTemplate(FormattableString template, Func<InputParameter, string> name)
    {
        object?[] arguments = [.. template.GetArguments()];   // a copy: GetArguments returns the template's own array
        for (int i = 0; i < arguments.Length; i++)
            arguments[i] = arguments[i] switch
            {
                InputParameter p => name(p),
                FormattableString nested => RenderTemplate(nested, name),
                var other => other,
            };
        // the current culture, as the interpolation behind Message used
        return string.Format(CultureInfo.CurrentCulture, template.Format, arguments);
    }

    private static IEnumerable<InputParameter> ParametersOf(FormattableString template) =>
        template.GetArguments().SelectMany(a => a switch
        {
            InputParameter p => [p],
            FormattableString nested => ParametersOf(nested),
            _ => Enumerable.Empty<InputParameter>(),
        });
}
