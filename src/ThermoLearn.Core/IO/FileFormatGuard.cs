namespace ThermoLearn.IO;

/// <summary>
/// Turns whatever a third-party decoder throws on a truncated or corrupt file into an
/// <see cref="InvalidInputException"/> that names the file, the format and what was found.
/// </summary>
internal static class FileFormatGuard
{
    /// <summary>Runs <paramref name="read"/>; decoder failures become bad-input errors about <paramref name="path"/>.</summary>
    public static T Read<T>(string path, string format, string expected, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidInputException)
        {
            throw;
        }
        catch (OutOfMemoryException e)
        {
            // Our own allocations are checked against the machine's memory before they are made (MemoryBudget), so an
            // allocation failing inside a decoder means a length field beyond anything the file can hold (found by
            // fuzzing: a 4.6 kB HDF5 file whose global heap object claims more than 2^31 bytes).
            throw new InvalidInputException(
                $"{path}: not a readable {format} file: decoding it asked for more memory than exists ({e.Message.TrimEnd('.')}), so a size "
                + $"field in it is corrupt. Expected {expected}.", e);
        }
        catch (FileNotFoundException)
        {
            throw new InvalidInputException($"{path}: file not found.");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InvalidInputException($"{path}: cannot read the file ({e.Message}).", e);
        }
        catch (Exception e)
        {
            // Decoders report corruption with many exception types (EndOfStream, Format, IndexOutOfRange,
            // plain Exception): for a reader of user files each of these means "this is not a valid file".
            throw new InvalidInputException(
                $"{path}: not a readable {format} file ({e.Message.TrimEnd('.')}); it may be truncated or corrupt. Expected {expected}.", e);
        }
    }

    /// <summary>Formats a double so that parsing it back gives the same bits.</summary>
    public static string RoundTrip(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses a metadata number written by <see cref="RoundTrip"/> (or by another tool).</summary>
    public static double ParseDouble(string path, string key, string text)
    {
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value))
            throw new InvalidInputException($"{path}: metadata '{key}' is '{text}', which is not a number.");
        return value;
    }

    /// <summary>Checks a stored frame spacing; a file's own dt wins over the caller's fallback.</summary>
    public static double ResolveDt(string path, double? stored, double? fallback, string whereStored)
    {
        if (stored is { } s)
        {
            if (!(s > 0) || !double.IsFinite(s))
                throw new InvalidInputException($"{path}: the stored frame spacing dt is {s}; it must be a positive finite number.");
            return s;
        }
        if (fallback is { } f) return f;
        throw InvalidInputException.Naming($"{path}: the file does not store the frame spacing ({whereStored}); pass it with {InputParameter.Dt}.");
    }
}
